"""Sending the daily digests: which ones are due, and sending one (once) with its log entry.

The digest of day D (city time) is due on D+1 at the profile's ``send_time``. ``due_digests``
lists every (profile, day) due and not yet in the log, oldest first: after downtime it returns
the missed days too, up to ``catch_up_days`` back, never before the profile's first digest (a new
profile starts with yesterday's digest at its send time instead of mailing a backlog). The scheduler calls
``send_due(now)`` on each tick; a failed send is not logged, so the next tick tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.digest.collect import CaseState, QueueCounter
from alerts.digest.i18n import Taxonomy
from alerts.digest.inputs import case_inputs
from alerts.digest.log import DigestLog
from alerts.digest.mime import build_message
from alerts.digest.profiles import DigestProfile
from alerts.digest.render import Digest, build_digest
from alerts.mail import MailError, SmtpConfig, send_mail
from index.backend import Backend

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    """What happened to one digest: ``sent``, ``skipped`` (already in the log) or ``failed`` (with
    the reason, and whether retrying later may help)."""

    profile: str
    day: date
    status: str
    reason: str = ""
    message_id: str | None = None
    recipients: list[str] = field(default_factory=list)
    transient: bool = False


def latest_due_day(now: datetime, profile: DigestProfile, timezone: str) -> date:
    """The most recent day whose digest is due at ``now``: yesterday once today's send time has
    passed (city time), else the day before yesterday."""
    local = _aware(now).astimezone(ZoneInfo(timezone))
    passed = local.time().replace(tzinfo=None) >= profile.send_time
    return local.date() - timedelta(days=1 if passed else 2)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class DigestService:
    """Everything needed to build and send the digests, as plain values (built from the settings
    by ``hpmon.commands.digest.digest_service``)."""

    backend: Backend
    profiles: dict[str, DigestProfile]
    log: DigestLog
    timezone: str
    city: dict[str, str]
    base_url: str
    taxonomy: Taxonomy
    recipients: dict[str, list[str]]
    smtp: SmtpConfig | None
    queue_counter: QueueCounter | None = None
    case_state: CaseState | None = None
    owns_backend: bool = False  # close() closes the backend too (when the factory opened it)
    cases: Any = None  # the office's CaseStore: case states and queue counts (``inputs.case_inputs``)
    owns_cases: bool = False

    def __post_init__(self) -> None:
        if self.cases is not None and self.queue_counter is None and self.case_state is None:
            inputs = case_inputs(self.cases, self.timezone)
            self.queue_counter, self.case_state = inputs.queue_counter, inputs.case_state

    def close(self) -> None:
        """Close the log (and the backend and case store when this service opened them)."""
        self.log.close()
        if self.owns_backend:
            self.backend.close()
        if self.owns_cases and self.cases is not None:
            self.cases.close()

    def due_at(self, profile_id: str, day: date) -> datetime:
        """When the digest of ``day`` is due: the next day at the profile's send time, city time."""
        profile = self.profile(profile_id)
        return datetime.combine(day + timedelta(days=1), profile.send_time, tzinfo=ZoneInfo(self.timezone))

    def profile(self, profile_id: str) -> DigestProfile:
        """The profile with that id; KeyError naming the known ones otherwise."""
        try:
            return self.profiles[profile_id]
        except KeyError:
            raise KeyError(f"unknown digest profile {profile_id!r} (known: {', '.join(self.profiles)})") from None

    def build(self, profile_id: str, day: date, *, lang: str | None = None, now: datetime | None = None) -> Digest:
        """The digest of ``day`` for the profile, ready to render."""
        return build_digest(self.backend, self.profile(profile_id), day, timezone=self.timezone, city=self.city,
                            base_url=self.base_url, taxonomy=self.taxonomy, queue_counter=self.queue_counter,
                            case_state=self.case_state, lang=lang, now=now)

    def due_digests(self, now: datetime) -> list[tuple[str, date]]:
        """Every (profile, day) whose digest is due at ``now`` and not sent yet, oldest day first."""
        due: list[tuple[str, date]] = []
        for profile in self.profiles.values():
            latest = latest_due_day(now, profile, self.timezone)
            sent = self.log.sent_days(profile.id)
            if not sent:  # a new profile: its first digest is yesterday's, at its send time
                yesterday = _aware(now).astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=1)
                days = [latest] if latest == yesterday else []
            else:
                first = max(min(sent), latest - timedelta(days=profile.catch_up_days - 1))
                days = [first + timedelta(days=n) for n in range((latest - first).days + 1)]
            due += [(profile.id, day) for day in days if day not in sent]
        return sorted(due, key=lambda item: (item[1], item[0]))

    def resolve_recipients(self, profile: DigestProfile) -> tuple[list[str], str]:
        """The addresses of the profile's recipient lists, and a reason when there are none."""
        missing = [name for name in profile.recipients if not self.recipients.get(name)]
        addresses = list(dict.fromkeys(a for name in profile.recipients for a in self.recipients.get(name, [])))
        if missing and not addresses:
            return [], f"recipient list(s) {', '.join(missing)} not set (settings: recipients)"
        if missing:
            log.warning("digest %s: recipient list(s) %s not set", profile.id, ", ".join(missing))
        return addresses, ""

    def send_digest(self, profile_id: str, day: date, *, force: bool = False, lang: str | None = None,
                    now: datetime | None = None, digest: Digest | None = None) -> SendResult:
        """Build, mail and log the digest of ``day`` for the profile (in ``lang``, default the
        profile's; ``digest`` when the caller already built it). Skipped when the log already has
        it, unless ``force`` (a deliberate resend)."""
        profile = self.profile(profile_id)
        if not force and (entry := self.log.get(profile_id, day)) is not None:
            return SendResult(profile_id, day, "skipped", f"already sent at {entry.sent_at.isoformat()}",
                              entry.message_id, entry.recipients)
        if self.smtp is None:
            return SendResult(profile_id, day, "failed", "no SMTP server configured (settings: smtp_host)")
        addresses, reason = self.resolve_recipients(profile)
        if not addresses:
            return SendResult(profile_id, day, "failed", reason)
        moment = _aware(now or datetime.now(UTC))
        digest = digest or self.build(profile_id, day, lang=lang, now=moment)
        message = build_message(digest, sender=self.smtp.sender, recipients=addresses, pdf=digest.pdf(), now=moment)
        try:
            send_mail(self.smtp, message)
        except MailError as exc:
            log.warning("digest %s of %s not sent: %s", profile_id, day, exc)
            return SendResult(profile_id, day, "failed", str(exc), recipients=addresses, transient=exc.transient)
        message_id = str(message["Message-ID"])
        self.log.record(profile_id, day, message_id, addresses, sent_at=moment)
        log.info("digest %s of %s sent to %d recipients (%s)", profile_id, day, len(addresses), message_id)
        return SendResult(profile_id, day, "sent", message_id=message_id, recipients=addresses)

    def send_due(self, now: datetime | None = None) -> list[SendResult]:
        """Send every digest due at ``now`` (the scheduler's tick). One digest failing, even from a
        bug, does not stop the others: it is logged and reported as failed."""
        moment = _aware(now or datetime.now(UTC))
        results = []
        for profile_id, day in self.due_digests(moment):
            try:
                results.append(self.send_digest(profile_id, day, now=moment))
            except Exception as exc:  # the service must go on; the traceback is logged
                log.exception("digest %s of %s failed", profile_id, day)
                results.append(SendResult(profile_id, day, "failed", f"{type(exc).__name__}: {exc}"))
        return results
