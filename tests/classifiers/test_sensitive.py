"""Sensitive-theme detection: every language, known pitfalls, exact spans, odd input."""

import time
from pathlib import Path

import pytest

from classifiers.sensitive import SensitiveDetector

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def detector() -> SensitiveDetector:
    return SensitiveDetector.from_config(CONFIG)


SOVEREIGNTY = [
    ("vi", "Phản đối Trung Quốc tập trận ở Hoàng Sa",
     "Người phát ngôn Bộ Ngoại giao khẳng định Việt Nam có đủ căn cứ pháp lý về chủ quyền đối với quần đảo Hoàng Sa."),
    ("en", "Vietnam protests Chinese drills near the Paracels",
     "Hanoi said the exercises violated its sovereignty over the Paracel Islands in the East Sea."),
    ("zh", "中国海警在西沙海域驱离越南渔船",
     "中国海警局新闻发言人表示，越方渔船非法进入中国西沙群岛领海，中方依法予以驱离。"),
    ("zh", "三沙市举行成立纪念活动", "海南省三沙市举行纪念活动，官员强调九段线内的南海诸岛自古以来是中国领土。"),
    ("zh", "南沙岛礁建设取得进展", "官方媒体称，中国在南沙群岛的岛礁建设“完全是主权范围内的事”。"),
    ("ja", "ベトナム、中国の西沙諸島での演習に抗議",
     "ベトナム外務省は、中国が南シナ海の西沙諸島周辺で実施した軍事演習について、主権侵害だと抗議した。"),
    ("ko", "베트남, 중국의 파라셀 군도 훈련에 항의",
     "베트남 외교부는 중국이 남중국해 시사군도 인근에서 실시한 군사훈련이 자국 영유권을 침해했다고 밝혔다."),
    ("ru", "Вьетнам протестует против учений Китая у Парасельских островов",
     "МИД Вьетнама заявил, что учения в Южно-Китайском море нарушают суверенитет страны над островами Хоангша."),
    ("fr", "Le Vietnam proteste contre des manœuvres chinoises aux Paracels",
     "Hanoï dénonce une violation de sa souveraineté sur les îles Paracels, en mer de Chine méridionale."),
]


@pytest.mark.parametrize("language,title,text", SOVEREIGNTY, ids=[f"{s[0]}-{i}" for i, s in enumerate(SOVEREIGNTY)])
def test_sovereignty_article_is_caught_in_every_language(detector, language, title, text):
    result = detector.detect(title, text, language)
    assert "sovereignty" in result.themes


@pytest.mark.parametrize("language,title,text", [
    ("zh", "环球时报：越方应停止在西沙挑衅", "文章称，九段线以内的西沙、南沙群岛是中国固有领土，越方应停止挑衅。"),
    ("en", "Global Times: Hanoi must stop provocations in Xisha",
     "China's Xisha and Nansha Islands lie within the nine-dash line."),
    ("ja", "中国、三沙市の行政区を新設", "中国は南シナ海の西沙群島と南沙群島を管轄する三沙市に新たな行政区を設けた。"),
    ("ko", "중국, 싼사시 행정구 신설", "중국은 남중국해 구단선을 근거로 싼사시 관할을 확대했다."),
    ("ru", "Китай расширил город Саньша", "Пекин ссылается на девятипунктирную линию и острова Сиша."),
    ("fr", "Pékin étend la ville de Sansha", "La Chine invoque la ligne en neuf traits et les îles Xisha."),
    ("vi", "Trung Quốc lập cái gọi là thành phố Tam Sa",
     "Việt Nam bác bỏ cái gọi là đường lưỡi bò và thành phố Tam Sa."),
])
def test_chinese_names_and_nine_dash_line_are_contested_naming(detector, language, title, text):
    result = detector.detect(title, text, language)
    assert "contested_naming" in result.themes
    assert "sovereignty" in result.themes


def test_nanhai_district_of_foshan_alone_is_not_sovereignty(detector):
    text = "佛山市南海区今年新增规模以上工业企业200家，南海区政府表示将继续优化营商环境。"
    result = detector.detect("佛山南海区推进制造业升级", text, "zh")
    assert "sovereignty" not in result.themes


def test_vietnam_haiphong_in_chinese_is_not_the_south_china_sea(detector):
    result = detector.detect("越南海防港集装箱吞吐量创新高", "越南海防港今年前十个月集装箱吞吐量同比增长12%。", "zh")
    assert result.themes == []


def test_weak_term_alone_in_body_does_not_raise_a_theme(detector):
    text = "Shipping lines to the South China coast and Nanhai ports grew."
    result = detector.detect("Hai Phong exports rise", text, "en")
    assert "sovereignty" not in result.themes
    result = detector.detect("广东经济", "南海是佛山的一个区。", "zh")
    assert result.findings == [] or "sovereignty" not in result.themes


@pytest.mark.parametrize("language,title,text", [
    ("vi", "Cảng Hải Phòng đón tàu container lớn nhất từ trước đến nay",
     "Tàu có sức chở 14.000 TEU cập cảng Lạch Huyện sáng nay; du khách cũng tăng mạnh tại Cát Bà và Đồ Sơn."),
    ("en", "Hai Phong port welcomes record container ship",
     "The ship docked at Lach Huyen, while tourists flocked to Cat Ba island and Do Son beach for the holiday."),
    ("zh", "海防港迎来最大集装箱船", "该船停靠海防拉县港，游客也涌向吉婆岛旅游。"),
    ("fr", "Haïphong accueille un porte-conteneurs record",
     "Le navire a accosté à Lach Huyen ; les touristes affluent à Cat Ba."),
])
def test_neutral_port_or_tourism_article_is_not_flagged(detector, language, title, text):
    assert detector.detect(title, text, language).themes == []


def test_rebuttal_still_counts_but_is_marked(detector):
    result = detector.detect("Vietnam rejects the so-called nine-dash line", "", "en")
    assert "contested_naming" in result.themes
    finding = next(f for f in result.findings if f.term == "nine-dash line")
    assert finding.rebuttal == "so-called"


def test_quoted_term_is_marked_as_rebuttal(detector):
    result = detector.detect("", "Trung Quốc lại nhắc tới “đường lưỡi bò” trong bản đồ mới.", "vi")
    finding = next(f for f in result.findings if f.term == "đường lưỡi bò")
    assert finding.rebuttal


def test_findings_carry_exact_spans(detector):
    title = "Tàu hải cảnh Trung Quốc quấy rối ngư dân ở Hoàng Sa"
    text = ("Ngư dân Quảng Ngãi cho biết tàu lạ đâm chìm tàu cá gần quần đảo Hoàng Sa; Biển Đông dậy sóng. "
            "中国海警 称...")
    result = detector.detect(title, text, "vi")
    assert result.findings
    for f in result.findings:
        body = title if f.field == "title" else text
        assert body[f.start:f.end] == f.surface
        assert 1 <= f.severity <= 3


def test_themes_are_ordered_by_strength(detector):
    result = detector.detect("Hoàng Sa", "Công giáo và dân chủ", "vi")
    assert result.themes[0] == "sovereignty"


@pytest.mark.parametrize("title,text,language", [
    ("", "", None),
    ("", "", "vi"),
    (None, None, "xx"),
    ("Hải Phòng 海防 하이퐁 Хайфон", "Mixed: Hoàng Sa, 西沙, 시사군도, Парасельские острова, îles Spratly.", "en"),
    ("\u0000\ufffd", "\U0001F600" * 100, "ja"),
])
def test_odd_input_never_raises(detector, title, text, language):
    result = detector.detect(title, text, language)
    assert isinstance(result.themes, list)


def test_mixed_language_text_is_matched_in_every_script(detector):
    result = detector.detect("", "Hanoi rejects China's claims over 西沙 and Парасельские острова.", "en")
    assert {f.term_language for f in result.findings} >= {"zh", "ru"}


def test_two_megabyte_article_is_truncated_not_fatal(detector):
    text = "Cảng Hải Phòng. " * 140_000  # ~2.2 MB
    start = time.perf_counter()
    result = detector.detect("x", text, "vi")
    assert result.truncated
    assert time.perf_counter() - start < 5


def test_detection_is_fast_on_an_ordinary_article(detector):
    text = ("Cảng Hải Phòng đón thêm nhiều tuyến tàu mới trong năm nay, lượng khách du lịch tới Cát Bà tăng. " * 6)
    detector.detect("warm-up", text, "vi")
    start = time.perf_counter()
    for _ in range(50):
        detector.detect("Hải Phòng phát triển cảng biển", text, "vi")
    assert (time.perf_counter() - start) / 50 < 0.002


def test_one_weak_term_raises_a_theme_only_in_an_article_about_its_subject(detector):
    title = "Hội nghị tiếp xúc cử tri phường Lê Chân"
    text = ("Tại hội nghị, cử tri đề nghị thành phố tiếp tục phát huy dân chủ trong việc lấy ý kiến người dân "
            "về quy hoạch khu dân cư mới và công khai kinh phí chỉnh trang đô thị.")
    assert "democracy" not in detector.detect(title, text, "vi").themes  # one weak term alone
    assert "democracy" not in detector.detect(title, text, "vi", ["port_logistics"]).themes
    about_governance = detector.detect(title, text, "vi", ["governance"])
    assert "democracy" in about_governance.themes
    assert about_governance.evidence["democracy"].rule == "weak term with topic governance"


def test_the_evaluation_gives_the_detector_the_topics_of_each_article():
    from classifiers.sensitive_eval import score_sensitive

    examples = [{"id": "x", "lang": "vi", "title": "Hội nghị tiếp xúc cử tri phường Lê Chân",
                 "text": "Cử tri đề nghị phát huy dân chủ khi lấy ý kiến người dân về quy hoạch.",
                 "sensitive": ["democracy"]}]
    asked = []

    def predict_topics(title, text, lang):
        asked.append(lang)
        return ["governance"]

    assert score_sensitive(CONFIG, examples).per_theme["democracy"].fn == 1
    assert score_sensitive(CONFIG, examples, predict_topics=predict_topics).per_theme["democracy"].tp == 1
    assert asked == ["vi"]


@pytest.mark.parametrize("language,title,term,cue", [
    ("de", "Vietnam weist die sogenannte Neun-Strich-Linie zurück", "Neun-Strich-Linie", "sogenannt"),
    ("es", "Vietnam rechaza la llamada línea de nueve trazos y no reconoce Nansha", "Nansha", "no reconoce"),
    ("id", "Vietnam menolak klaim Tiongkok atas Xisha", "Xisha", "menolak"),
])
def test_rebuttal_cues_are_read_in_more_languages(detector, language, title, term, cue):
    finding = next(f for f in detector.detect(title, "", language).findings if f.term == term)
    assert finding.rebuttal == cue
