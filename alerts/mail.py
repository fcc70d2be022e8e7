"""Sending e-mail over SMTP (STARTTLS, implicit TLS or plain, with optional login): the one
transport shared by alerts and digests."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache


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
    """The message could not be handed to the SMTP server; ``transient`` says whether to retry."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@lru_cache(maxsize=8)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """One TLS context per CA file (loading the system certificates is slow)."""
    return ssl.create_default_context(cafile=ca_file)


def send_mail(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand one message to the SMTP server. Raises MailError (transient for connection
    problems and 4xx answers, permanent for 5xx answers and refused recipients)."""
    if "From" not in message:
        message["From"] = config.sender
    context = _tls_context(config.ca_file) if config.security != "none" else None
    try:
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
            refused = client.send_message(message)
            if refused:
                raise MailError(f"recipients refused: {', '.join(sorted(refused))}", transient=False)
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", transient=400 <= exc.smtp_code < 500) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"recipients refused: {', '.join(sorted(exc.recipients))}", transient=False) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}", transient=True) from exc
