"""The daily digest (issue 7): one e-mail per department each morning about the day before.

Layout, one job per module:

- ``profiles``: ``config/digests.yaml`` → ``DigestProfile`` (recipients, sections, filters, language, time)
- ``collect``: the day's numbers, stories, flagged items, topic sections and appendix from the index
- ``charts``: matplotlib charts as PNG bytes
- ``i18n`` + ``messages/<lang>.yaml``: every string people read, label and country names, number formats
- ``render`` + ``templates/``: HTML (e-mail or file), Markdown and PDF
- ``mime``: the e-mail (HTML with inline charts, plain text, PDF attached)
- ``log``: the ``digest_sent`` table (once per day, catch-up after downtime)
- ``service``: ``DigestService.due_digests(now)``, ``send_digest(profile, day)``, ``send_due(now)``
"""

from alerts.digest.profiles import DigestProfile, ProfileError, load_profiles
from alerts.digest.render import Digest, build_digest
from alerts.digest.service import DigestService, SendResult

__all__ = ["Digest", "DigestProfile", "DigestService", "ProfileError", "SendResult", "build_digest",
           "load_profiles"]
