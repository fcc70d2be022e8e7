"""Sending e-mail over SMTP (STARTTLS, implicit TLS or plain, with optional login): the one
transport shared by alerts and digests."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str | None = None
    password: str | None = None
    sender: str = "hpmon <hpmon@localhost>"
    timeout: float = 30.0
    ca_file: str | None = None  # to trust a private CA (and the test server's certificate)


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; ``transient`` says whether to retry.
    ``stage`` says where it failed: ``connect`` (reaching the server: connection, greeting, EHLO,
    STARTTLS, login: every other message would fail the same way) or ``message`` (this message:
    MAIL, RCPT, DATA, a connection dropped while it was being sent)."""

    def __init__(self, message: str, *, transient: bool, stage: str = "message") -> None:
        super().__init__(message)
        self.transient = transient
        self.stage = stage


@lru_cache(maxsize=8)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """One TLS context per CA file (loading the system certificates is slow)."""
    return ssl.create_default_context(cafile=ca_file)


def _error(exc: Exception, stage: str) -> MailError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return MailError(f"recipients refused: {', '.join(sorted(exc.recipients))}", transient=False, stage=stage)
    if isinstance(exc, smtplib.SMTPResponseException):
        return MailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", transient=400 <= exc.smtp_code < 500,
                         stage=stage)
    return MailError(f"{type(exc).__name__}: {exc}", transient=True, stage=stage)


def _open(config: SmtpConfig, timeout: float | None = None) -> smtplib.SMTP:
    """A session ready to send (connected, greeted, TLS and login done). Raises MailError (stage
    ``connect``)."""
    context = _tls_context(config.ca_file) if config.security != "none" else None
    timeout = config.timeout if timeout is None else timeout
    client: smtplib.SMTP | None = None
    try:
        if config.security == "tls":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        return client
    except (OSError, smtplib.SMTPException) as exc:
        if client is not None:
            client.close()
        raise _error(exc, "connect") from exc


def _quit(client: smtplib.SMTP) -> None:
    """End the session politely; whatever the server answers (a 421, a dropped connection) the
    messages it accepted are sent, so nothing here is an error."""
    try:
        code, answer = client.docmd("QUIT")
        if code != 221:
            logger.info("SMTP server answered QUIT with %s %r (the message was already accepted)", code, answer)
    except (OSError, smtplib.SMTPException) as exc:
        logger.info("SMTP QUIT failed after the message was accepted: %s", exc)
    finally:
        client.close()


def send_mail(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand one message to the SMTP server. Returns once the server accepted it (250 after
    DATA): what QUIT answers afterwards does not matter, the message is sent. Raises MailError
    (transient for connection problems and 4xx answers, permanent for 5xx answers and refused
    recipients; ``stage`` tells a server that cannot be reached from a refused message)."""
    if "From" not in message:
        message["From"] = config.sender
    client = _open(config)
    try:
        refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        raise _error(exc, "message") from exc
    _quit(client)
    if refused:
        raise MailError(f"recipients refused: {', '.join(sorted(refused))}", transient=False)


def probe_smtp(config: SmtpConfig, *, timeout: float = 10.0) -> str | None:
    """None when the server takes sessions now (connect, greeting, EHLO, TLS and login as for
    sending, then NOOP), else the reason: how a delivery round finds a server back from an outage
    without waiting out the deliveries' backoff."""
    try:
        client = _open(config, timeout=min(timeout, config.timeout))
    except MailError as exc:
        return str(exc)
    try:
        code, answer = client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        return f"{type(exc).__name__}: {exc}"
    _quit(client)
    return None if code == 250 else f"SMTP {code}: {answer!r}"
