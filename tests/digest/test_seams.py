"""No seams in the digest: every profile rendered in Vietnamese and in English (HTML for the file and
the e-mail, Markdown for the plain-text part) shows labels from the catalogues and CLDR, never a
message key (``field.body``), a machine code (``rebuttal_queue``, ``contested_naming``, ``foreign``,
an ISO country code, a source id, a profile id) or the scorer's raw evidence
(``"East Sea" (title 45-53, severity 2)``, ``(p=0.91)``).

The sample day is the fixture day plus articles whose risk reasons come from the real scorer
(``classifiers.risk.score_risk`` over the real lexicon), so a change of the evidence format there
shows here. Crawled strings (titles, outlets, the quoted terms) are taken out before the checks.
"""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest

from alerts.digest.render import build_digest
from classifiers.facts import FactConflict
from classifiers.risk import RiskConfig, score_risk
from classifiers.sensitive import SensitiveDetector
from index.sqlite import SqliteBackend
from tests.conftest import REPO
from tests.digest.conftest import BASE_URL, CITY, DAY, day_articles, local, make, other_articles

TZ = "Asia/Ho_Chi_Minh"
SOURCE_ID = "gdelt-watch-vi"

IDENTIFIER = re.compile(r"\b\w+_\w+\b|\b[A-Z][a-z]+/[A-Z]\w+")  # snake_case key, or a zone id (Asia/Ho_Chi_Minh)
MESSAGE_KEY = re.compile(r"\b(?:field|risk|case|flag|metric|section|scope|purpose|breakdown|chart|topic|tone|"
                         r"story|link|headline|appendix|sensitive|mail|pdf|footer|internal)\.[a-z_.]+\b")
COUNTRY_CODE = re.compile(r"(?<![\w/.-])[A-Z]{2}(?![\w/.-])")  # a two-letter code standing alone
# the scorer's own wording (classifiers.risk, classifiers.facts), never what the reader gets
RAW_EVIDENCE = re.compile(r"\b(?:title|text) \d+-\d+|\(p=[0-9.]+\)|sentiment negative \(|diverges from its story \(|"
                          r"article says \"|: state_media|, tolerance ")
ENGLISH_CODES = re.compile(r"\b(?:foreign|domestic|negative|positive|neutral|mixed|sovereignty|watch|high|medium|"
                           r"low|none|unknown|published|drafting|awaiting|dismissed|new|title|text)\b")


def scored(title: str, text: str, language: str, **signals):
    detector = SensitiveDetector.from_config(REPO / "config")
    result = detector.detect(title, text, language)
    return result, score_risk(result, config=RiskConfig.from_config(REPO / "config"), **signals)


def sample_articles():
    """The fixture day plus: a foreign article scored by the real scorer (themes, tone, outlet profile,
    a figure contradicting the reference and divergence), one without an outlet (its source id must
    not show), and one from a country code CLDR does not know."""
    title = "China renames East Sea features near the Paracel Islands, Haiphong fishermen say"
    text = ("Chinese coast guard ships chased Vietnamese fishing boats near the Paracel Islands in the South China "
            "Sea, the report says. Haiphong port handled 50 million tonnes last year.")
    conflict = FactConflict(quantity="port_throughput", label="Sản lượng hàng qua cảng Hải Phòng",
                            article_value=50_000_000, unit="tấn", surface="50 million tonnes", start=0, end=17,
                            sentence="Haiphong port handled 50 million tonnes last year.",
                            reference_value=171_000_000, reference_source="Cục Hàng hải Việt Nam",
                            reference_date="2025-01-10", reference_period=2024, tolerance="±10%",
                            deviation=-0.71)
    sensitive, risk = scored(title, text, "en", sentiment_label="negative", sentiment_probability=0.86,
                             outlet_profile="state_media_claimant", outlet_name="Global Times", divergence=0.6,
                             fact_conflicts=[conflict])
    assert risk.reasons and {r.kind for r in risk.reasons} >= {"theme:sovereignty", "negative_sentiment",
                                                               "outlet_profile", "divergence", "fact_conflict"}
    real = make("gt2", title, "globaltimes.cn", "CN", "en", "foreign", local(DAY, 18), topics=["sovereignty"],
                sentiment="negative", sensitive_themes=list(sensitive.themes) + ["contested_naming"],
                risk_score=risk.score, flags=["rebuttal_queue", "watch"], reasons={"risk": risk.to_dict()},
                coverage="watch")
    no_outlet = make("src1", "Hai Phong mở tuyến container mới đi Nhật Bản", "tin.example.vn", "VN", "vi",
                     "domestic", local(DAY, 19), topics=["port_logistics"], sentiment="positive")
    no_outlet.outlet = None
    no_outlet.source_id = SOURCE_ID
    odd_country = make("zz1", "Haiphong seen from afar", "far.example.org", "ZZ", "en", "foreign", local(DAY, 20),
                       topics=["other"], sentiment="neutral")
    return [*day_articles(), *other_articles(), real, no_outlet, odd_country]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    articles = sample_articles()
    store = SqliteBackend(tmp_path_factory.mktemp("seams") / "index.sqlite")
    assert not store.upsert(articles).errors
    yield store, articles
    store.close()


def visible(document: str, crawled: list[str], *, markdown: bool = False) -> str:
    """The words a reader sees, minus the crawled strings (titles, outlets, quoted terms, URLs)."""
    if not markdown:
        document = re.sub(r"<(style|head)\b.*?</\1>", " ", document, flags=re.S)
        document = htmllib.unescape(re.sub(r"<[^>]+>", " ", document))
    else:
        document = re.sub(r"\]\([^)]*\)", "]", document).replace("\\", "")
    document = re.sub(r"https?://\S+", " ", document)
    for text in sorted(crawled, key=len, reverse=True):
        document = document.replace(text, " ")
    document = re.sub(r"[«“][^»”]*[»”]", " ", document)  # quoted terms are the article's own words
    return " ".join(document.split())


def crawled_strings(articles) -> list[str]:
    out = []
    for a in articles:
        out += [a.title or "", a.outlet or "", a.url, htmllib.escape(a.title or "")]
    return [s for s in out if s]


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("profile_id", ["sotttt", "songoaivu"])
def test_no_raw_key_or_machine_code_in_any_rendering(sample, profiles, taxonomy, profile_id, lang):
    store, articles = sample
    states = {"gt2": "awaiting_approval", "s3": "published"}
    digest = build_digest(store, profiles[profile_id], DAY, timezone=TZ, city=CITY, base_url=BASE_URL,
                          taxonomy=taxonomy, case_state=states.get, queue_counter=lambda day: 2, lang=lang)
    crawled = crawled_strings(articles)
    renderings = {"file": visible(digest.html("file"), crawled), "email": visible(digest.html("email"), crawled),
                  "markdown": visible(digest.markdown(), crawled, markdown=True)}
    assert any(f.article.id == "gt2" for f in digest.data.flagged)
    for name, text in renderings.items():
        where = f"{profile_id}/{lang}/{name}"
        assert len(text) > 2000, where  # the checks below read a real digest
        assert not IDENTIFIER.findall(text), (where, IDENTIFIER.findall(text))
        assert not MESSAGE_KEY.findall(text), (where, MESSAGE_KEY.findall(text))
        assert not COUNTRY_CODE.findall(text), (where, COUNTRY_CODE.findall(text))
        assert not RAW_EVIDENCE.findall(text), (where, RAW_EVIDENCE.findall(text))
        assert SOURCE_ID not in text and "sotttt" not in text and "songoaivu" not in text, where
        if lang == "vi":
            assert not ENGLISH_CODES.findall(text), (where, ENGLISH_CODES.findall(text))
            for phrase in ("Lưu hành nội bộ", "ngày 24 tháng 11 năm 2025", "Chủ quyền lãnh thổ",
                           "Đưa vào hàng chờ phản bác", "Chờ phê duyệt", "truyền thông nhà nước của một bên",
                           "Trung Quốc", "Tiếng Anh", "nội dung, mức độ 3", "xác suất 86"):
                assert phrase.casefold() in text.casefold(), (where, phrase)
        else:
            for phrase in ("For internal use", "24 November 2025", "Sent to the rebuttal queue",
                           "Awaiting approval", "state media of a claimant", "China", "English",
                           "text, severity 3", "probability 86"):
                assert phrase.casefold() in text.casefold(), (where, phrase)
    if profile_id == "sotttt":  # the outlet-less article is domestic: only in this profile
        assert "tin.example.vn" in digest.html("file")


def test_the_checks_catch_each_kind_of_seam():
    """The patterns above are not vacuous: each finds the seam it is for."""
    assert IDENTIFIER.findall("Đánh dấu: rebuttal_queue") == ["rebuttal_queue"]
    assert IDENTIFIER.findall("(giờ Asia/Ho_Chi_Minh)")
    assert MESSAGE_KEY.findall("field.body · field.opening") == ["field.body", "field.opening"]
    assert COUNTRY_CODE.findall("Quốc gia: CN, Tiếng Anh") == ["CN"]
    assert RAW_EVIDENCE.findall('"East Sea" (title 45-53, severity 2)') and ENGLISH_CODES.findall("南海 (text)")
    assert ENGLISH_CODES.findall("Phạm vi: foreign · negative") == ["foreign", "negative"]
    assert visible("<b>x</b> «East Sea» y", []) == "x y"


def test_an_empty_day_says_so_once(sample, profiles, taxonomy):
    store, _ = sample
    digest = build_digest(store, profiles["sotttt"], DAY + timedelta(days=30), timezone=TZ, city=CITY,
                          base_url=BASE_URL, taxonomy=taxonomy)
    text = visible(digest.html("file"), [])
    assert text.count("Không có bài báo nào") == 1 and "0 bài trong ngày" not in text
