"""The ways out: e-mail over SMTP and a signed JSON webhook. Each sends one delivery and
returns what happened as a value (sent, retry, failed for good); none raises for the other
side's problems.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
from collections.abc import Iterable
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import httpx

from alerts.delivery import AlertRecord, DeliveryRow, SendResult
from alerts.mail import MailError, SmtpConfig, probe_smtp, send_mail
from alerts.render import Renderer
from guard.net import HostPolicy, Refused, guarded_client

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hpmon-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_RESPONSE_BYTES = 4096
# SMTP refusals that say our configuration is wrong (login, sender, TLS), not that the message is bad
_SETUP_ERRORS = (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError,
                 smtplib.SMTPHeloError)


def message_id(key: str, sender: str) -> str:
    """The Message-ID of a delivery, derived from its idempotency key, so that a message sent
    again after a crash is recognisably the same message."""
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2] if "@" in address else "hpmon.local"
    safe_key = "".join(c for c in key if c.isalnum() or c in ".-_")
    return f"<{safe_key}@{domain or 'hpmon.local'}>"


def sign(body: bytes, secret: str) -> str:
    """The value of the signature header: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class EncodedSubject(str):
    """A Subject folded by ``email.header.Header`` (RFC 2047 words of at most 75 characters).

    Python 3.11's default folder drops the space between a plain word and the encoded word after
    it in long non-ASCII subjects ("trong 6 giờ" arrives as "trong6 giờ"); a header value with a
    ``name`` and a ``fold`` method is stored and written as is by ``email.policy.EmailPolicy``."""

    name = "Subject"

    def fold(self, *, policy) -> str:  # noqa: ANN001 (an email.policy.Policy)
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


class EmailChannel:
    """Alerts as e-mail: Vietnamese (or the recipient's language) subject, plain-text and HTML parts."""

    name = "email"

    def __init__(self, smtp: SmtpConfig | None, renderer: Renderer) -> None:
        self.smtp = smtp
        self.renderer = renderer

    def route(self, delivery: DeliveryRow) -> str:
        return f"{self.smtp.host}:{self.smtp.port}" if self.smtp else "-"

    def build(self, alert: AlertRecord, delivery: DeliveryRow) -> EmailMessage:
        """The message for one recipient (also used by tests and previews)."""
        subject, text, html = self.renderer.email(alert, delivery.language, delivery.idempotency_key)
        sender = self.smtp.sender if self.smtp else "hpmon <hpmon@localhost>"
        return self._message(alert, delivery, sender, subject, text, html)

    @staticmethod
    def _message(alert: AlertRecord, delivery: DeliveryRow, sender: str, subject: str, text: str,
                 html: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = EncodedSubject(subject)
        msg["From"] = sender
        msg["To"] = delivery.target
        msg["Date"] = format_datetime(alert.created_at)
        msg["Message-ID"] = message_id(delivery.idempotency_key, sender)
        msg["Auto-Submitted"] = "auto-generated"
        msg["Content-Language"] = delivery.language
        msg["X-Hpmon-Alert"] = alert.uid
        msg["X-Hpmon-Rule"] = alert.rule
        msg[IDEMPOTENCY_HEADER] = delivery.idempotency_key
        msg.set_content(text, cte="quoted-printable")  # no 8-bit or over-long lines, whatever was crawled
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        return msg

    def send(self, alert: AlertRecord, delivery: DeliveryRow) -> SendResult:
        if self.smtp is None:
            return SendResult.retry("no SMTP server configured (smtp_host)", unreachable=True)
        subject, text, html = self.renderer.email(alert, delivery.language, delivery.idempotency_key)
        try:
            message = self._message(alert, delivery, self.smtp.sender, subject, text, html)
        except ValueError as exc:  # an address or header the e-mail library refuses: no retry will help
            return SendResult.failed(f"cannot build the message: {exc}")
        try:
            send_mail(self.smtp, message)
        except MailError as exc:
            cause = exc.__cause__
            if isinstance(cause, _SETUP_ERRORS):
                # our login or sender is refused: fixing the settings must release the alert, not lose it
                return SendResult.retry(f"{exc} (check the SMTP settings)", unreachable=True)
            if not exc.transient:
                return SendResult.failed(str(exc))
            # only a server that cannot be reached defers the other messages; a failure while
            # this message was being sent is this message's, retried alone
            return SendResult.retry(str(exc), unreachable=exc.stage == "connect")
        return SendResult.ok(f"accepted by {self.smtp.host}:{self.smtp.port} as {message['Message-ID']}")

    def probe(self, route: str) -> str | None:
        """None when the SMTP server takes sessions again (see ``alerts.mail.probe_smtp``), else why not."""
        if self.smtp is None:
            return "no SMTP server configured (smtp_host)"
        return probe_smtp(self.smtp)


class WebhookChannel:
    """Alerts as a signed JSON POST: ``X-Hpmon-Signature: sha256=<hex>`` over the exact body,
    and the delivery's ``Idempotency-Key`` so receivers can drop a repeat. Sent through the
    address policy (``guard.net``): a webhook on a loopback, private or link-local address goes
    out only when its host is in ``allow_hosts`` (the ``fetch_allow_hosts`` setting)."""

    name = "webhook"

    def __init__(self, webhooks: dict[str, str], secret: str | None, renderer: Renderer, *,
                 timeout: float = 10.0, user_agent: str = "hpmon-alerts/1", allow_hosts: Iterable[str] = ()) -> None:
        self.webhooks = dict(webhooks)
        self.secret = secret
        self.renderer = renderer
        self.timeout = timeout
        self.user_agent = user_agent
        self.policy = HostPolicy.from_allow_hosts(allow_hosts)

    def route(self, delivery: DeliveryRow) -> str:
        return delivery.target

    def body(self, alert: AlertRecord, delivery: DeliveryRow) -> bytes:
        """The exact bytes posted (and signed)."""
        doc = self.renderer.webhook(alert, delivery.language, delivery.idempotency_key)
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def send(self, alert: AlertRecord, delivery: DeliveryRow) -> SendResult:
        url = self.webhooks.get(delivery.target)
        if not url:
            return SendResult.failed(f"no webhook named {delivery.target!r} in the settings")
        if not url.startswith(("http://", "https://")):
            return SendResult.failed(f"webhook {delivery.target!r} is not an http(s) URL")
        if not self.secret:
            return SendResult.retry("no webhook_secret configured: webhooks are only sent signed", unreachable=True)
        body = self.body(alert, delivery)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.user_agent,
            SIGNATURE_HEADER: sign(body, self.secret),
            IDEMPOTENCY_HEADER: delivery.idempotency_key,
            "X-Hpmon-Event": "alert",
            "X-Hpmon-Delivery": delivery.idempotency_key,
        }
        # no proxies from the environment and no redirects: the request goes where the settings say
        try:
            with guarded_client(self.policy, timeout=self.timeout, follow_redirects=False) as client, \
                    client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                answer = b""
                for chunk in response.iter_bytes():
                    answer += chunk
                    if len(answer) >= MAX_RESPONSE_BYTES:
                        break
                retry_after = response.headers.get("Retry-After")
        except Refused as exc:
            # a setting to fix (the URL, or fetch_allow_hosts): the alert waits, it is not lost
            logger.warning("webhook %s refused: %s", delivery.target, exc)
            return SendResult.retry(f"webhook {delivery.target} refused: {exc}", unreachable=True)
        except httpx.InvalidURL as exc:
            return SendResult.failed(f"webhook {delivery.target!r} is not a valid URL: {exc}")
        except httpx.HTTPError as exc:  # connection refused or reset, DNS, timeouts, bad replies
            return SendResult.retry(f"webhook {delivery.target} unreachable: {exc}", unreachable=True)
        if 200 <= status < 300:
            return _http_outcome(status, "", None)
        detail = answer[:MAX_RESPONSE_BYTES].decode("utf-8", "replace").strip()[:200]
        return _http_outcome(status, detail, retry_after)


def _http_outcome(status: int, detail: str, retry_after: str | None) -> SendResult:
    """2xx delivered; 408 and 429 retried (after Retry-After); other 4xx refused for good; else retried."""
    what = f"HTTP {status}" + (f": {detail}" if detail else "")
    if 200 <= status < 300:
        return SendResult.ok(what)
    if status in (408, 429) or not 400 <= status < 500:
        seconds = None
        if retry_after and retry_after.strip().isdigit():
            seconds = float(retry_after.strip())
        return SendResult.retry(what, retry_after=seconds)
    return SendResult.failed(what)
