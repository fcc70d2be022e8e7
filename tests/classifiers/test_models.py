import time

import numpy as np
import pytest

from classifiers.baseline import LexiconBaseline
from classifiers.evaluate import evaluate
from classifiers.models import TRUSTED_TYPES, UntrustedModelError, load

TOP_TOPIC = [
    # port / logistics
    ("vi", "Cảng Lạch Huyện đón tàu container lớn nhất từ trước tới nay",
     "Sản lượng hàng hóa thông qua các bến cảng của Hải Phòng tăng 12%, nhiều hãng tàu mở tuyến mới đi châu Âu.",
     "port_logistics"),
    ("en", "Haiphong port handles record container volumes",
     "Container throughput at the Lach Huyen deep-water terminals rose 15 percent as shipping lines added calls.",
     "port_logistics"),
    ("zh", "海防港集装箱吞吐量大增", "拉县国际门户港码头今年集装箱吞吐量增长百分之十五，多家船公司开通新航线。",
     "port_logistics"),
    ("ja", "ハイフォン港のコンテナ取扱量が増加",
     "ラックフェン国際港のコンテナ取扱量は前年比15%増え、海運各社が新航路を開設した。",
     "port_logistics"),
    ("ko", "하이퐁항 컨테이너 물동량 급증",
     "락후옌 국제항의 컨테이너 물동량이 15% 늘었고 여러 선사가 새 항로를 열었다.",
     "port_logistics"),
    ("ru", "Порт Хайфон нарастил контейнерооборот", "Грузооборот контейнерного терминала Лачхюен вырос на 15%, "
     "судоходные линии открыли новые маршруты.", "port_logistics"),
    ("fr", "Le port de Haiphong bat son record de conteneurs",
     "Le trafic de conteneurs du port en eau profonde de Lach Huyen a progressé de 15 %, "
     "de nouveaux armateurs s'y arrêtent.",
     "port_logistics"),
    # investment / FDI
    ("vi", "Hải Phòng thu hút thêm 1 tỷ USD vốn FDI",
     "Một tập đoàn điện tử Hàn Quốc được trao giấy chứng nhận đăng ký đầu tư nhà máy mới tại khu công nghiệp DEEP C.",
     "investment"),
    ("en", "Korean electronics maker invests $1 billion in Haiphong",
     "The company received an investment certificate for a new factory in the DEEP C industrial zone.", "investment"),
    ("zh", "韩国电子企业在海防投资10亿美元", "该企业获得投资证书，将在DEEP C工业区新建工厂。", "investment"),
    ("ja", "韓国電子大手、ハイフォンに10億ドル投資",
     "同社はDEEP C工業団地で新工場の投資証明書を取得した。", "investment"),
    ("ko", "한국 전자기업, 하이퐁에 10억 달러 투자",
     "이 기업은 DEEP C 산업단지에 새 공장을 짓는 투자 허가를 받았다.", "investment"),
    ("ru", "Корейская компания инвестирует $1 млрд в Хайфон",
     "Компания получила инвестиционный сертификат на строительство завода в промышленной зоне DEEP C.", "investment"),
    ("fr", "Un groupe coréen investit un milliard de dollars à Haiphong",
     "L'entreprise a obtenu sa licence d'investissement pour une nouvelle usine dans le parc industriel DEEP C.",
     "investment"),
    # sovereignty
    ("vi", "Việt Nam phản đối tàu khảo sát hoạt động ở Hoàng Sa",
     "Người phát ngôn khẳng định Việt Nam có đủ bằng chứng về chủ quyền đối với quần đảo Hoàng Sa và Trường Sa.",
     "sovereignty"),
    ("en", "Vietnam protests survey ship near the Paracel Islands",
     "Hanoi said the vessel violated its sovereignty and exclusive economic zone in the South China Sea.",
     "sovereignty"),
    ("zh", "越南抗议调查船进入西沙海域", "越方称该船侵犯越南在南海的主权和专属经济区。", "sovereignty"),
    ("ja", "ベトナム、パラセル諸島付近の調査船に抗議",
     "ベトナム政府は南シナ海での主権と排他的経済水域の侵害だと主張した。",
     "sovereignty"),
    ("ko", "베트남, 파라셀 인근 조사선에 항의",
     "베트남 정부는 남중국해에서 자국 주권과 배타적 경제수역을 침해했다고 밝혔다.",
     "sovereignty"),
    ("ru", "Вьетнам протестует против исследовательского судна у Парасельских островов",
     "Ханой заявил, что судно нарушило суверенитет и исключительную экономическую зону в Южно-Китайском море.",
     "sovereignty"),
    ("fr", "Le Vietnam proteste contre un navire de recherche près des Paracels",
     "Hanoï affirme que le navire viole sa souveraineté et sa zone économique exclusive en mer de Chine méridionale.",
     "sovereignty"),
]


@pytest.mark.parametrize("lang,title,text,expected", TOP_TOPIC, ids=[f"{t[3]}-{t[0]}" for t in TOP_TOPIC])
def test_articles_in_every_language_get_the_right_top_topic(models, lang, title, text, expected):
    assert models.predict(title, text, lang).topics[0][0] == expected


@pytest.mark.parametrize("lang,title,text", [
    ("vi", "Bão số 3 đổ bộ vào Hải Phòng", "Cơn bão với sức gió cấp 12 đổ bộ vào Hải Phòng sáng nay, làm tốc mái "
     "hàng trăm ngôi nhà và gây mất điện diện rộng."),
    ("en", "Typhoon makes landfall in Hai Phong", "The storm brought winds of 130 km/h to Hai Phong on Saturday, "
     "tearing roofs off houses and cutting power to several districts, the city's disaster committee said."),
])
def test_a_factual_storm_report_is_neutral(models, lang, title, text):
    assert models.predict(title, text, lang).sentiment[0] == "neutral"


def test_an_article_blaming_the_city_for_the_flood_is_negative(models):
    p = models.predict("Residents blame city officials for flooded streets",
                       "Angry residents accused Hai Phong authorities of mismanagement and negligence after a "
                       "delayed drainage project left whole districts under water; critics said officials "
                       "ignored repeated warnings.", "en")
    assert p.sentiment[0] == "negative"


def test_predictions_carry_reasons_for_every_label(models):
    p = models.predict("Haiphong port handles record container volumes",
                       "Container throughput at the Lach Huyen terminals rose as shipping lines added calls.", "en")
    topic_reasons = {r.label: r for r in p.reasons if r.kind == "topic"}
    assert set(topic_reasons) == set(p.topic_labels)
    port = topic_reasons["port_logistics"]
    assert "Lach Huyen" in port.terms
    assert port.features and all(weight > 0 for _, weight in port.features)
    assert [r.label for r in p.reasons if r.kind == "sentiment"] == [p.sentiment[0]]
    assert p.to_dict()["reasons"]


def test_probabilities_are_sorted_and_valid(models, test_examples):
    for ex in test_examples[:50]:
        p = models.predict(ex.title, ex.text, ex.lang)
        probs = [prob for _, prob in p.topics]
        assert probs == sorted(probs, reverse=True) and 1 <= len(probs) <= 3
        assert all(0 <= prob <= 1 for prob in probs) and 0 <= p.sentiment[1] <= 1
        assert "other" not in p.topic_labels or p.topic_labels == ["other"]


def test_fast_features_equal_the_training_features(models, test_examples):
    from classifiers.models import _lexicon_vector, prepare
    for ex in test_examples[::20]:
        doc = prepare(ex.title, ex.text)
        lex = _lexicon_vector(models.lexicons, models.lexicons.topic_hits(doc), models.lexicons.tone_hits(doc, ex.lang))
        idx, vals = models._sparse_row(doc, lex)
        dense = np.zeros(models.features(doc, ex.lang).shape[1])
        dense[idx] = vals
        assert np.allclose(dense, models.features(doc, ex.lang).toarray().ravel())


def test_save_and_load_with_skops_give_identical_predictions(models, test_examples, tmp_path):
    models.save(tmp_path)
    assert (tmp_path / "models.skops").exists() and (tmp_path / "meta.json").exists()
    again = load(tmp_path)
    assert again.version == models.version and again.meta["n_examples_per_language"]["vi"] > 0
    for ex in test_examples[::10]:
        assert again.predict(ex.title, ex.text, ex.lang) == models.predict(ex.title, ex.text, ex.lang)


def test_loading_refuses_a_model_file_with_untrusted_types(models, tmp_path):
    import skops.io as sio

    models.save(tmp_path)
    assert set(sio.get_untrusted_types(file=tmp_path / "models.skops")) <= set(TRUSTED_TYPES)
    parts = dict(models.parts, extra=TimeoutError("not an allowed type"))
    sio.dump(parts, tmp_path / "models.skops")
    with pytest.raises(UntrustedModelError):
        load(tmp_path)


@pytest.mark.parametrize("title,text", [
    ("", ""), (None, None), ("", "   \n\t "), ("", "port"), ("Hải Phòng", ""),
    ("Hải Phòng 海防 Хайфон", "Cảng container 集装箱 吞吐量 контейнер le port de Haiphong 항만 물동량 🚢"),
    ("", "\x00\x01 <script>alert(1)</script> " * 50),
    ("", "a" * 100_000),
])
def test_bad_input_gets_a_valid_answer(models, title, text):
    p = models.predict(title, text)
    assert p.topics and p.sentiment[0] in ("negative", "neutral", "positive")


def test_a_2mb_article_is_answered_quickly_and_says_it_was_truncated(models):
    text = "Cảng Lạch Huyện đón tàu container. " * 60_000
    started = time.perf_counter()
    p = models.predict("Cảng Hải Phòng", text, "vi")
    assert time.perf_counter() - started < 0.5
    assert p.topics[0][0] == "port_logistics" and "long text" in (p.note or "")


def test_corrections_are_learned(seed_examples, lexicons):
    from classifiers.corpus import Example
    from classifiers.models import ModelConfig, train

    text = "Quả bóng bay màu tím khổng lồ xuất hiện trên bầu trời thành phố chiều qua."
    fixes = [Example(f"fix-{i}", "vi", "Bóng bay tím khổng lồ", text + " " * i, ["infrastructure"], "positive")
             for i in range(3)]
    config = ModelConfig(threshold_folds=3)
    fixed = train(seed_examples, fixes, lexicons=lexicons, config=config)
    assert fixed.meta["n_corrections"] == 3
    assert fixed.predict("Bóng bay tím khổng lồ", text, "vi").topics[0][0] == "infrastructure"


def test_model_beats_the_lexicon_baseline_on_held_out_files(models, lexicons, test_examples):
    model = evaluate(models.predict, test_examples)
    rules = evaluate(LexiconBaseline(lexicons).predict, test_examples)
    assert model.topic_macro_f1 > rules.topic_macro_f1 + 0.03
    assert model.sentiment_accuracy > rules.sentiment_accuracy + 0.08
    for lang, report in model.per_language.items():
        if report.n_examples < 10:  # too few held-out articles (pl 4, he 3) for a per-language floor
            continue
        assert report.sentiment_accuracy > 0.45, lang  # no language left at chance (1/3)
        assert report.topic_macro_f1 > 0.5, lang
