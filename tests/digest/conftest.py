"""A fixture index for the digest tests: known articles over several days in a real SqliteBackend.

The digest day is DAY (Monday 24 November 2025, Hải Phòng time). Its 12 articles:

  story  id    outlet              country lang scope     topics                    tone      extra
  s1     s1a   vnexpress.net       VN      vi   domestic  port_logistics            positive
  s1     s1b   tuoitre.vn          VN      vi   domestic  port_logistics            positive
  s1     s1c   reuters.com         GB      en   foreign   port_logistics,investment positive
  s1     s1d   nikkei.com          JP      ja   foreign   port_logistics            neutral
  s2     s2a   xinhuanet.com       CN      zh   foreign   investment                neutral
  s2     s2b   yna.co.kr           KR      ko   foreign   investment                neutral
  s2     s2c   vneconomy.vn        VN      vi   domestic  investment                positive
  s3     s3    globaltimes.cn      CN      en   foreign   sovereignty               negative  risk 0.72, themes
  s5     s5    rfa.org             US      vi   foreign   rights_religion_ethnicity negative  risk 0.45, flag
  s4     s4a   baohaiphong.vn      VN      vi   domestic  tourism_culture           positive  00:05 local
  s4     s4b   vietnamnews.vn      VN      en   domestic  tourism_culture           positive  23:30 local
  u1     u1    haiphong.gov.vn     VN      vi   domestic  —                         —         hostile title

So for DAY: 12 articles, 12 outlets, 6 foreign (50 %), 5 languages, 2 negative (16.7 %), 6 countries.
Foreign only: 6 articles, 6 outlets, 5 countries, 5 languages, 2 negative (33.3 %).
One article at 00:10 on DAY+1 (local) must not count. DAY-1 has 6 articles (2 foreign, 1 negative,
5 outlets); DAY-2 … DAY-7 have 2, 3, 4, 5, 6, 8 domestic articles: 7-day average 34/7 ≈ 4.9.
DAY-20 has 3 foreign articles (only in the 30-day chart). EMPTY_DAY (DAY+10) has none.
"""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest

from alerts.digest.log import DigestLog
from alerts.digest.profiles import load_profiles
from alerts.digest.service import DigestService
from alerts.i18n import load_taxonomy
from alerts.mail import SmtpConfig
from index.article import Article
from index.sqlite import SqliteBackend
from tests.conftest import REPO

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2025, 11, 24)
EMPTY_DAY = DAY + timedelta(days=10)
BASE_URL = "https://hpmon.example.vn"
CITY = {"vi": "Hải Phòng", "en": "Hai Phong"}
HOSTILE_TITLE = '<script>alert("x")</script> Thông báo của UBND thành phố Hải Phòng'

GT_RISK = {
    "score": 0.72, "level": "high", "queued": True,
    "reasons": [
        {"kind": "theme:sovereignty", "evidence": "“Xisha Islands” (title); 南海 (text)", "weight": 0.5},
        {"kind": "contested_naming", "evidence": "Xisha Islands", "weight": 0.35},
        {"kind": "negative_sentiment", "evidence": "negative (p=0.91)", "weight": 0.2},
    ],
}
RFA_RISK = {
    "score": 0.45, "level": "medium", "queued": True,
    "reasons": [{"kind": "theme:human_rights", "evidence": "nhân quyền (text)", "weight": 0.3},
                {"kind": "negative_sentiment", "evidence": "negative (p=0.80)", "weight": 0.2}],
}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def make(aid: str, title: str, outlet: str, country: str, lang: str, scope: str, when: datetime, *,
         story: str | None = None, topics: list[str] | None = None, sentiment: str | None = None,
         **extra) -> Article:
    return Article(id=aid, url=f"https://{outlet}/{aid}.html", source_id=outlet.split(".")[0], title=title,
                   text=f"{title}. Nội dung bài viết về Hải Phòng.", language=lang, outlet=outlet,
                   country=country, scope=scope, published_at=when, fetched_at=when, story_id=story or aid,
                   topics=topics, sentiment=sentiment, **extra)


def day_articles() -> list[Article]:
    d = DAY
    port, inv = ["port_logistics"], ["investment"]
    return [
        make("s1a", "Cảng Lạch Huyện đón tàu mẹ 200.000 tấn", "vnexpress.net", "VN", "vi", "domestic",
             local(d, 8), story="s1a", topics=port, sentiment="positive"),
        make("s1b", "Tàu container lớn nhất cập cảng Hải Phòng", "tuoitre.vn", "VN", "vi", "domestic",
             local(d, 9), story="s1a", topics=port, sentiment="positive"),
        make("s1c", "Largest container ship calls at Vietnam's Haiphong port", "reuters.com", "GB", "en",
             "foreign", local(d, 10), story="s1a", topics=["port_logistics", "investment"], sentiment="positive"),
        make("s1d", "ハイフォン港に大型コンテナ船が寄港", "nikkei.com", "JP", "ja", "foreign", local(d, 11),
             story="s1a", topics=port, sentiment="neutral"),
        make("s2a", "越南海防市吸引外资创新高", "xinhuanet.com", "CN", "zh", "foreign", local(d, 7),
             story="s2a", topics=inv, sentiment="neutral",
             translations={"vi": {"title": "Hải Phòng của Việt Nam thu hút vốn ngoại cao kỷ lục", "lead": "",
                                  "engine": "argos", "model": "zh-vi"}}),
        make("s2b", "베트남 하이퐁, 외국인 투자 유치 사상 최대", "yna.co.kr", "KR", "ko", "foreign", local(d, 12),
             story="s2a", topics=inv, sentiment="neutral"),
        make("s2c", "Hải Phòng thu hút FDI kỷ lục trong năm 2025", "vneconomy.vn", "VN", "vi", "domestic",
             local(d, 13), story="s2a", topics=inv, sentiment="positive"),
        make("s3", "Chinese survey ship near Xisha Islands as Haiphong port grows", "globaltimes.cn", "CN", "en",
             "foreign", local(d, 14), topics=["sovereignty"], sentiment="negative",
             sensitive_themes=["sovereignty", "contested_naming"], risk_score=0.72, reasons={"risk": GT_RISK}),
        make("s5", "Hải Phòng: tranh cãi quanh vụ cưỡng chế đất ở Tiên Lãng", "rfa.org", "US", "vi", "foreign",
             local(d, 15), topics=["rights_religion_ethnicity"], sentiment="negative",
             sensitive_themes=["human_rights"], risk_score=0.45, flags=["watch"], reasons={"risk": RFA_RISK}),
        make("s4a", "Lễ hội Hoa Phượng Đỏ 2025 khai mạc tại Hải Phòng", "baohaiphong.vn", "VN", "vi", "domestic",
             local(d, 0, 5), story="s4a", topics=["tourism_culture"], sentiment="positive"),
        make("s4b", "Red Flamboyant Festival opens in Hai Phong", "vietnamnews.vn", "VN", "en", "domestic",
             local(d, 23, 30), story="s4a", topics=["tourism_culture"], sentiment="positive"),
        make("u1", HOSTILE_TITLE, "haiphong.gov.vn", "VN", "vi", "domestic", local(d, 16)),
    ]


def other_articles() -> list[Article]:
    prev = DAY - timedelta(days=1)
    out = [
        make("p1", "Hải Phòng khởi công cầu mới", "vnexpress.net", "VN", "vi", "domestic", local(prev, 8),
             topics=["infrastructure"], sentiment="positive"),
        make("p2", "Hải Phòng mở rộng khu công nghiệp", "vnexpress.net", "VN", "vi", "domestic", local(prev, 9),
             topics=["investment"], sentiment="neutral"),
        make("p3", "Du lịch Cát Bà hút khách", "tuoitre.vn", "VN", "vi", "domestic", local(prev, 10),
             topics=["tourism_culture"], sentiment="positive"),
        make("p4", "Hội chợ xúc tiến thương mại Hải Phòng", "baohaiphong.vn", "VN", "vi", "domestic",
             local(prev, 11), topics=["investment"], sentiment="positive"),
        make("p5", "Haiphong factory strike ends", "apnews.com", "US", "en", "foreign", local(prev, 12),
             topics=["investment"], sentiment="negative"),
        make("p6", "海防港吞吐量增长", "people.com.cn", "CN", "zh", "foreign", local(prev, 13),
             topics=["port_logistics"], sentiment="neutral"),
        # 00:10 on the day after DAY: belongs to DAY+1, not DAY
        make("n1", "Tin sáng: Hải Phòng đón năm mới", "vnexpress.net", "VN", "vi", "domestic",
             local(DAY + timedelta(days=1), 0, 10), topics=["governance"], sentiment="neutral"),
    ]
    for back, count in zip(range(2, 8), (2, 3, 4, 5, 6, 8), strict=True):
        d = DAY - timedelta(days=back)
        out += [make(f"w{back}-{n}", f"Tin Hải Phòng {d} số {n}", "baohaiphong.vn", "VN", "vi", "domestic",
                     local(d, 9, n), topics=["investment"], sentiment="neutral") for n in range(count)]
    old = DAY - timedelta(days=20)
    out += [make(f"o{n}", f"Haiphong news {n}", "bbc.co.uk", "GB", "en", "foreign", local(old, 10, n),
                 topics=["port_logistics"], sentiment="neutral") for n in range(3)]
    return out


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    store = SqliteBackend(tmp_path_factory.mktemp("digest-index") / "index.sqlite")
    report = store.upsert(day_articles() + other_articles())
    assert not report.errors
    yield store
    store.close()


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy(REPO / "config" / "topics.yaml")


@pytest.fixture(scope="session")
def profiles(taxonomy):
    return load_profiles(REPO / "config" / "digests.yaml", set(taxonomy.topics))


def queue_counter(day: date) -> int:
    return {DAY: 3, DAY - timedelta(days=1): 1}.get(day, 0)


def case_state(article_id: str) -> str | None:
    return {"s3": "drafting"}.get(article_id)


class Inbox:
    """What the local SMTP server received: (envelope sender, recipients, raw message bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd); yields (port, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


RECIPIENTS = {"sotttt": ["lanh.dao@sotttt.example.vn", "bao.chi@sotttt.example.vn"],
              "songoaivu": ["thong.tin@songoaivu.example.vn"]}
MORNING_AFTER = datetime(DAY.year, DAY.month, DAY.day, 7, 45, tzinfo=TZ) + timedelta(days=1)


def make_service(backend, profiles, taxonomy, path, port: int | None, recipients=None) -> DigestService:
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", sender="hpmon <hpmon@example.vn>",
                      timeout=10) if port else None
    return DigestService(backend=backend, profiles=profiles, log=DigestLog(path), timezone="Asia/Ho_Chi_Minh",
                         city=CITY, base_url=BASE_URL, taxonomy=taxonomy,
                         recipients=RECIPIENTS if recipients is None else recipients, smtp=smtp,
                         queue_counter=queue_counter, case_state=case_state)


@pytest.fixture()
def mailer(backend, profiles, taxonomy, smtp_server, tmp_path):
    port, inbox = smtp_server
    service = make_service(backend, profiles, taxonomy, tmp_path / "hpmon.sqlite", port)
    yield service, inbox
    service.log.close()


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)
