"""Real parts for the alert tests: an SMTP server (aiosmtpd) that can be stopped and started
again on the same port, an HTTP server receiving webhooks, a self-signed certificate for
STARTTLS, a fixed clock, and a batch of articles in Vietnamese, English and Chinese."""

from __future__ import annotations

import email
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.engine import AlertEngine
from alerts.mail import SmtpConfig
from index.article import Article
from index.sqlite import SqliteBackend

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Hải Phòng
SECRET = "test-webhook-secret-not-a-real-one"
BASE_URL = "https://hpmon.example.vn"
RECIPIENTS = {
    "sotttt_oncall": ["trucban@sotttt.test", "lanhdao@sotttt.test"],
    "songoaivu_oncall": ["ngoaivu@songoaivu.test"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- SMTP ----------------------------------------------------------------------------------


class Recorder:
    """aiosmtpd handler keeping every message received, once per envelope recipient."""

    def __init__(self) -> None:
        self.received: list[tuple[str, EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default_policy)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1 that keeps its port across stop/start."""

    port: int = field(default_factory=free_port)
    tls_context: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    recorder: Recorder = field(default_factory=Recorder)
    controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[tuple[str, EmailMessage]]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def per_recipient_and_id(self) -> Counter:
        """How many copies of each (recipient, Message-ID) arrived."""
        return Counter((rcpt, msg["Message-ID"]) for rcpt, msg in self.messages)

    def config(self, **kw) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, security=kw.pop("security", "none"), timeout=5, **kw)


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file), made for the test run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


# -- webhooks ------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signature_ok(self, secret: str = SECRET) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-hpmon-signature", ""))


class WebhookServer:
    """A real HTTP server on 127.0.0.1 recording POSTs and answering with queued statuses (200 when none)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int | tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    answer = outer.statuses.pop(0) if outer.statuses else 200
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/oncall"

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_server():
    with WebhookServer() as server:
        yield server


# -- time, articles, engine -----------------------------------------------------------------


class Clock:
    """A clock the test moves by hand (the engine and the alert log read it)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_article(id: str, *, title: str, text: str, language: str, outlet: str, country: str, scope: str,
                 hours_ago: float = 1.0, themes: list[str] | None = None, topics: list[str] | None = None,
                 sentiment: str | None = "neutral", risk: float | None = 0.0, story: str | None = None,
                 duplicate_of: str | None = None, url: str | None = None, lead: str = "",
                 findings: list[tuple[str, str]] = (), now: datetime = NOW) -> Article:
    reasons: dict = {}
    if findings:  # (theme, surface) as the sensitive-theme detector records them
        reasons["sensitive"] = {"themes": themes, "findings": [
            {"theme": theme, "term": surface, "severity": 2, "field": "text", "start": text.find(surface),
             "end": text.find(surface) + len(surface), "surface": surface} for theme, surface in findings]}
    if risk:
        reasons["risk"] = {"score": risk, "reasons": [
            {"kind": f"theme:{t}", "evidence": f'"{t}" (text 10-20, severity 2)', "weight": risk} for t in themes or []
        ] or [{"kind": "negative_sentiment", "evidence": "sentiment negative (p=0.90)", "weight": risk}]}
    return Article(
        id=id, url=url or f"https://{outlet.lower().replace(' ', '')}.example/{id}", source_id=outlet.lower(),
        title=title, text=text, lead=lead, language=language, outlet=outlet, country=country, scope=scope,
        published_at=now - timedelta(hours=hours_ago),
        fetched_at=now - timedelta(hours=hours_ago) + timedelta(minutes=5),
        story_id=story or id, duplicate_of=duplicate_of, topics=topics or ["other"], sentiment=sentiment,
        sensitive_themes=themes or [], risk_score=risk, reasons=reasons,
    )


def fixture_batch(now: datetime = NOW) -> list[Article]:
    """A crawl's worth of articles: which rules each should fire is written next to it."""
    return [
        # domestic, routine: nothing
        make_article("vi-port", title="Cảng Lạch Huyện đón tàu container lớn nhất từ trước đến nay",
                     text="Sáng nay, cảng Lạch Huyện ở Hải Phòng đón tàu container có sức chở 18.000 TEU.",
                     language="vi", outlet="Báo Hải Phòng", country="VN", scope="domestic",
                     topics=["port_logistics"], now=now),
        # foreign, sovereignty, risk above the queue threshold: sovereignty_foreign + high_risk
        make_article("en-sov",
                     title="Chinese survey ship spotted off Bach Long Vi as Haiphong fishermen report harassment",
                     text="A Chinese survey vessel operated for days in the Gulf of Tonkin near Haiphong's "
                          "Bach Long Vi island, in waters Vietnam says are its own, fishermen said.",
                     language="en", outlet="Global Wire", country="GB", scope="foreign",
                     themes=["sovereignty"], topics=["sovereignty"], sentiment="negative", risk=0.45,
                     findings=[("sovereignty", "Gulf of Tonkin"), ("sovereignty", "Bach Long Vi")], now=now),
        # foreign, Chinese naming of the islands: sovereignty_foreign + high_risk
        make_article("zh-sansha", title="三沙市与越南海防市渔船纠纷",
                     text="据报道，越南海防市渔船在西沙群岛附近海域作业，三沙市有关部门表示关注。",
                     language="zh", outlet="南海观察", country="CN", scope="foreign",
                     themes=["contested_naming", "sovereignty"], topics=["sovereignty"], sentiment="negative",
                     risk=0.5, findings=[("contested_naming", "三沙市"), ("contested_naming", "西沙群岛")], now=now),
        # foreign, human rights, low risk: rights_religion_ethnicity_foreign only
        make_article("en-rights", title="Rights group criticises Haiphong land eviction trial",
                     text="An international rights group said the trial of farmers in Hai Phong over a land "
                          "dispute fell short of fair-trial standards.",
                     language="en", outlet="Asia Monitor", country="US", scope="foreign",
                     themes=["human_rights"], topics=["rights_religion_ethnicity"], sentiment="negative",
                     risk=0.2, now=now),
        # foreign, neutral tourism: nothing
        make_article("en-tour", title="Cat Ba island: Haiphong's gateway to Lan Ha Bay",
                     text="Travellers heading to Ha Long Bay increasingly start from Cat Ba in Hai Phong.",
                     language="en", outlet="Travel Weekly", country="AU", scope="foreign",
                     topics=["tourism_culture"], sentiment="positive", now=now),
        # domestic sovereignty story: the foreign-press rules must not fire, risk below the queue
        make_article("vi-sov", title="Hải Phòng tổ chức triển lãm Hoàng Sa, Trường Sa",
                     text="Triển lãm bản đồ và tư liệu về chủ quyền Hoàng Sa, Trường Sa khai mạc tại Hải Phòng.",
                     language="vi", outlet="Báo Hải Phòng", country="VN", scope="domestic",
                     themes=["sovereignty"], topics=["sovereignty"], risk=0.1, now=now),
    ]


def syndicated_copy(original: Article, id: str, outlet: str, country: str, now: datetime = NOW) -> Article:
    """The same story re-published by another outlet (a copy the pipeline marked as such)."""
    return make_article(id, title=original.title, text=original.text, language=original.language or "en",
                        outlet=outlet, country=country, scope="foreign", themes=original.sensitive_themes,
                        topics=original.topics, sentiment=original.sentiment, risk=original.risk_score,
                        story=original.story_id, duplicate_of=original.id, now=now)


@pytest.fixture
def backend(tmp_path):
    b = SqliteBackend(tmp_path / "index.sqlite")
    yield b
    b.close()


@dataclass
class Setup:
    """One engine over a real index, a real SMTP server and a real webhook receiver."""

    engine: AlertEngine
    backend: SqliteBackend
    smtp: SmtpServer
    hooks: WebhookServer
    clock: Clock

    def index_and_process(self, articles: list[Article]) -> list[int]:
        self.backend.upsert(articles)
        return self.engine.process_batch(articles)


def build_engine(tmp_path: Path, backend, smtp: SmtpServer | None, hooks: WebhookServer, clock: Clock, *,
                 rules_path: Path = CONFIG / "alerts.yaml", smtp_config: SmtpConfig | None = None,
                 secret: str | None = SECRET, recipients: dict | None = None,
                 allow_hosts: tuple[str, ...] = ("127.0.0.1",)) -> AlertEngine:
    return AlertEngine.from_values(
        rules_path=rules_path, backend=backend, db_path=tmp_path / "hpmon.sqlite",
        smtp=smtp_config or (smtp.config() if smtp else None), recipients=recipients or RECIPIENTS,
        webhooks={"oncall_webhook": hooks.url}, webhook_secret=secret, base_url=BASE_URL,
        taxonomy_path=CONFIG / "topics.yaml", risk_path=CONFIG / "risk.yaml", webhook_timeout=5, clock=clock,
        allow_hosts=allow_hosts,  # the test receiver is on loopback, refused unless allowed
    )


@pytest.fixture
def setup(tmp_path, backend, smtp_server, webhook_server, clock) -> Setup:
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock)
    yield Setup(engine, backend, smtp_server, webhook_server, clock)
    engine.close()

