"""The digest as an e-mail: plain text, HTML with its charts inline, and the PDF attached.

Structure (what every mail client shows correctly)::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain            the Markdown digest
    │   └── multipart/related
    │       ├── text/html         charts referenced as cid:chart-<id>@hpmon
    │       └── image/png ...     one per chart, Content-ID <chart-<id>@hpmon>
    └── application/pdf           digest-<profile>-<day>.pdf (attachment)
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from alerts.digest.render import Digest


def message_domain(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs (``hpmon.local`` when it has none)."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "hpmon.local"


def build_message(digest: Digest, *, sender: str, recipients: list[str], pdf: bytes | None = None,
                  now: datetime | None = None) -> EmailMessage:
    """The digest's e-mail to ``recipients`` (all in To: they are the office's own lists), with a
    fresh Message-ID. ``pdf`` is attached when given (the caller renders it once and may keep it)."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # short enough not to be folded: "<digest.<profile>.<day>.<random>@<domain>>"
    message["Message-ID"] = (f"<digest.{digest.profile.id}.{digest.data.day.isoformat()}.{secrets.token_hex(6)}"
                             f"@{message_domain(sender)}>")
    message["Content-Language"] = digest.data.lang
    message.set_content(digest.markdown() + "\n" + digest.tr("mail.preview") + "\n")
    message.add_alternative(digest.html("email"), subtype="html")
    html_part = message.get_payload()[1]
    for chart in digest.charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{chart.cid}>",
                              filename=chart.filename, disposition="inline")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{digest.stem}.pdf")
    return message
