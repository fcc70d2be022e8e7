"""Behaviour of the sensitive lexicon's democracy, religion, ethnicity and hostile-framing terms on
sentences written for these tests (not corpus sentences): what they must raise, what routine
official and everyday language must NOT raise, and the lexicon file's own conventions."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml

from classifiers.risk import RiskConfig, score_risk
from classifiers.sensitive import SensitiveDetector

CONFIG = Path(__file__).resolve().parents[2] / "config"
# The one documented exception to "a term in one theme only": China's names of the archipelagos.
ALLOWED_SHARED = {"sovereignty", "contested_naming"}


@pytest.fixture(scope="module")
def detector() -> SensitiveDetector:
    return SensitiveDetector.from_config(CONFIG)


@pytest.fixture(scope="module")
def risk_config() -> RiskConfig:
    return RiskConfig.from_config(CONFIG)


def _lexicon() -> dict:
    return yaml.safe_load((CONFIG / "lexicons" / "sensitive.yaml").read_text(encoding="utf-8"))["themes"]


def _key(term: str) -> str:
    return unicodedata.normalize("NFC", term).casefold()


def test_no_term_is_listed_twice_in_one_list():
    for theme, by_lang in _lexicon().items():
        for lang, items in by_lang.items():
            keys = [_key(i["term"]) for i in items]
            assert sorted({k for k in keys if keys.count(k) > 1}) == [], (theme, lang)


def test_a_term_belongs_to_one_theme_except_the_archipelago_names():
    themes_of: dict[tuple[str, str], set[str]] = {}
    for theme, by_lang in _lexicon().items():
        for lang, items in by_lang.items():
            for item in items:
                themes_of.setdefault((lang, _key(item["term"])), set()).add(theme)
    shared = {k: v for k, v in themes_of.items() if len(v) > 1}
    assert all(v == ALLOWED_SHARED for v in shared.values()), shared


@pytest.mark.parametrize("language,title,text", [
    ("vi", "Nhóm người Việt hải ngoại kêu gọi đa nguyên",
     "Họ cho rằng cơ chế “Đảng cử, dân bầu” khiến cử tri không có lựa chọn thực sự."),
    ("vi", "Khởi tố một người đàn ông ở Kiến An",
     "Người này bị bắt về tội lợi dụng các quyền tự do dân chủ xâm phạm lợi ích của Nhà nước."),
    ("en", "Vietnam slips in media watchdog's annual list",
     "The country ranked 174th in the World Press Freedom Index published on Friday."),
    ("en", "Hundreds take to the streets in Hanoi",
     "Police watched as hundreds of people took to the streets over the weekend."),
    ("zh", "越南在新闻自由指数中排名靠后", "该组织称越南长期实行一党执政。"),
    ("ja", "ベトナム、報道の自由度で下位", "国際団体の報告書が発表された。"),
    ("ko", "베트남 언론자유지수 하위권", "국제 단체가 보고서를 발표했다."),
    ("ru", "Во Вьетнаме прошли акции протеста", "Участники протестных шествий требовали отставки чиновников."),
    ("fr", "Des opposants politiques en exil interpellent Bruxelles",
     "Ils dénoncent des élections de façade et un parti-État sans contre-pouvoir."),
])
def test_democracy_coverage_is_raised_in_every_language(detector, language, title, text):
    assert "democracy" in detector.detect(title, text, language).themes


def test_article_331_story_carries_both_human_rights_and_democracy(detector):
    text = "He is accused of abusing democratic freedoms to infringe upon the interests of the state."
    result = detector.detect("Blogger detained in Hai Phong", text, "en")
    assert {"democracy", "human_rights"} <= set(result.themes)


@pytest.mark.parametrize("language,title,text", [
    ("vi", "Hải Phòng sẵn sàng cho ngày bầu cử đại biểu HĐND các cấp",
     "Ủy ban bầu cử thành phố cho biết 100% khu vực bỏ phiếu đã niêm yết danh sách cử tri; "
     "hội nghị hiệp thương lần thứ ba đã lập danh sách chính thức những người ứng cử."),
    ("vi", "Phường Lê Chân tổ chức hội nghị đối thoại với nhân dân",
     "Hội nghị nhằm thực hiện tốt quy chế dân chủ cơ sở, lắng nghe ý kiến của cử tri về chỉnh trang đô thị."),
    ("en", "Vietnam protests Chinese survey near Paracels",
     "The foreign ministry lodged a protest with the Chinese embassy on Monday."),
    ("en", "Hai Phong voters elect city council deputies",
     "Turnout was high across the city's 1,200 polling stations, the election committee said."),
    ("ru", "Вьетнам заявил протест Китаю", "МИД Вьетнама вручил ноту протеста посольству КНР."),
    ("zh", "越南外交部就南海演习提出抗议", "越方要求中方尊重越南的主权。"),
])
def test_routine_elections_local_meetings_and_diplomatic_protests_are_not_democracy(detector, language, title,
                                                                                   text):
    assert "democracy" not in detector.detect(title, text, language).themes


def test_grassroots_democracy_law_is_seen_but_not_queued(detector, risk_config):
    result = detector.detect("Hải Phòng triển khai Luật Thực hiện dân chủ ở cơ sở",
                             "Các phường sẽ lấy ý kiến người dân về kế hoạch sử dụng đất.", "vi")
    assert "democracy" in result.themes
    assert result.evidence["democracy"].max_severity == 1
    assert not score_risk(result, config=risk_config).queued


def test_press_freedom_ranking_story_keeps_human_rights_through_the_watchdog_name(detector):
    result = detector.detect("Vietnam near bottom of press freedom index",
                             "Reporters Without Borders placed the country 178th of 180.", "en")
    assert {"democracy", "human_rights"} <= set(result.themes)


@pytest.mark.parametrize("language,title,text,theme", [
    ("vi", "Phật tử Hải Phòng mừng Đại lễ Phật đản", "Hàng nghìn tăng ni, phật tử dự lễ tại chùa.", "religion"),
    ("en", "Buddhists mark Vesak in Hai Phong", "Monks led a lantern procession.", "religion"),
    ("ko", "하이퐁 불교계 부처님오신날 봉축", "수천 명이 참석했다.", "religion"),
    ("vi", "Người Dao ở Thủy Nguyên giữ nghề thuốc nam", "Nhiều hộ đã có thu nhập ổn định.", "ethnicity"),
    ("ru", "Стипендии для школьников из нацменьшинств", "Помощь получили дети народностей зао и тай.",
     "ethnicity"),
    ("zh", "环球时报：越南甘当域外国家的棋子", "文章称越方“引狼入室”。", "hostile_framing"),
])
def test_religion_ethnicity_and_hostile_framing_coverage_is_raised(detector, language, title, text, theme):
    assert theme in detector.detect(title, text, language).themes


def test_forced_renunciation_of_faith_is_a_strong_religion_signal(detector):
    result = detector.detect("Báo cáo mới về Điện Biên",
                             "Một số hộ cho biết bị cán bộ xã ép bỏ đạo Tin Lành.", "vi")
    assert result.evidence["religion"].max_severity == 3


@pytest.mark.parametrize("language,title,text", [
    ("vi", "Khách sạn Mường Thanh Hải Phòng kín phòng dịp lễ",
     "Du khách đến Đồ Sơn và Cát Bà tăng mạnh; nhiều người đi bộ dạo phố."),
    ("ko", "하이퐁-인천 문화교류 행사 개최", "양 도시는 관광 협력도 확대하기로 했다."),
    ("en", "Tourists flock to Cham Islands and Hai Phong's pagodas",
     "Hotels in Cat Ba reported full bookings for the holiday."),
    ("ru", "Туристы прошли пешком по набережной Хайфона", "Гиды провели экскурсию по старому городу."),
    ("en", "Pawnshop chain opens in Hai Phong", "The company plans ten more outlets."),
])
def test_everyday_words_near_the_new_terms_raise_nothing(detector, language, title, text):
    assert detector.detect(title, text, language).themes == []
