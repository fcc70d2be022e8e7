"""The LibreTranslate engine against a stand-in server on 127.0.0.1: the request it sends, the
answer it reads, and a refusal or a silent server as a clear reason."""

from __future__ import annotations

import pytest

from pipeline.translate import LibreTranslateEngine, TranslationError


def test_texts_are_sent_with_the_key_and_come_back_in_order(libretranslate):
    libretranslate.api_key = "k-123"
    engine = LibreTranslateEngine(libretranslate.url + "/", api_key="k-123")
    assert engine.translate(["海防港", "新的大桥"], "zh", "vi") == ["[vi] 港防海", "[vi] 桥大的新"]
    assert libretranslate.requests == [{"q": ["海防港", "新的大桥"], "source": "zh", "target": "vi", "format": "text",
                                        "api_key": "k-123"}]
    assert ("zh", "vi") in engine.pairs() and ("vi", "vi") not in engine.pairs()
    assert engine.model("zh", "vi") == libretranslate.url


def test_a_refusal_says_what_the_server_said(libretranslate):
    libretranslate.api_key = "right"
    with pytest.raises(TranslationError, match="403: Invalid API key") as caught:
        LibreTranslateEngine(libretranslate.url, api_key="wrong").translate(["海防"], "zh", "vi")
    assert caught.value.unavailable  # a wrong key fails every article: the engine is left alone


def test_a_silent_server_is_abandoned_after_the_timeout(libretranslate):
    libretranslate.hold.clear()  # the server reads the request and does not answer
    with pytest.raises(TranslationError, match="did not answer within 0.2 s") as caught:
        LibreTranslateEngine(libretranslate.url, timeout=0.2).translate(["海防"], "zh", "vi")
    assert caught.value.unavailable


def test_an_unreachable_server_is_a_reason_not_a_crash(libretranslate):
    url = libretranslate.url
    libretranslate.close()
    with pytest.raises(TranslationError, match="unreachable") as caught:
        LibreTranslateEngine(url, timeout=2).translate(["海防"], "zh", "vi")
    assert caught.value.unavailable
