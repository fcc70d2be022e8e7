import pytest

from pipeline.language import LanguageDetector

DETECTOR = LanguageDetector()


@pytest.mark.parametrize("text,lang", [
    ("Cảng Hải Phòng", "vi"),
    ("Thành phố Hải Phòng đón hơn một triệu lượt khách du lịch trong năm nay.", "vi"),
    ("The port of Haiphong handled record container volumes this year.", "en"),
    ("越南海防市", "zh"),
    ("ハイフォン港", "ja"),
    ("베트남 하이퐁", "ko"),
    ("Порт Хайфона растёт быстрее всех во Вьетнаме.", "ru"),
    ("Le port de Haïphong a battu un record de trafic cette année.", "fr"),
    ("ท่าเรือไฮฟอง", "th"),
])
def test_detects_language_including_short_titles(text, lang):
    guess = DETECTOR.detect(text)
    assert guess.language == lang
    assert 0 < guess.probability <= 1


def test_is_deterministic():
    text = "Hai Phong port"
    assert len({DETECTOR.detect(text).probability for _ in range(5)}) == 1


def test_declared_language_tips_a_close_call_but_does_not_override_clear_text():
    assert DETECTOR.detect("Thị trường", declared="vi").language == "vi"
    clear = DETECTOR.detect("The port of Haiphong handled record container volumes this year.", declared="vi")
    assert clear.language == "en"


@pytest.mark.parametrize("text", ["", "   ", "12345 !!!", "🙂🙂"])
def test_no_letters_gives_undetermined_not_an_error(text):
    assert DETECTOR.detect(text).language == "und"
