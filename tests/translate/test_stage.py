"""The translation stage in the pipeline: a kept foreign article is indexed with the translation
of its title and lead, stored and returned by both engines; an engine that fails or hangs never
drops the article nor slows the ones after it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.article import Article
from pipeline.city import load_profile
from pipeline.process import Pipeline
from pipeline.translate import ArgosEngine, LibreTranslateEngine, TranslationStage, install_package
from tests.index.conftest import drop_es, make_backend

REPO = Path(__file__).resolve().parents[2]
ZH_TITLE = "海防港货运量今年增长很快"
ZH_TEXT = ("越南海防市的海防港今年货运量增长很快。海防市政府表示，新的大桥明年将通车，许多游客来到吉婆岛。"
           "海防工业园区新增了三家工厂，中国企业参观了海防港。") * 2


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request, tmp_path):
    backend = make_backend(request.param, tmp_path)
    yield backend
    if request.param == "elasticsearch":
        drop_es(backend)
    backend.close()


def _pipeline(backend, translation) -> Pipeline:
    return Pipeline(city=load_profile(REPO / "config" / "cities" / "haiphong.yaml"), backend=backend,
                    translation=translation)


def _index(pipeline: Pipeline, n: int = 1, *, title: str = ZH_TITLE, text: str = ZH_TEXT, language: str = "zh"):
    draft = pipeline.draft_from_text(f"in-{n}", text, title=title, url=f"https://news.example.cn/{n}.html",
                                     language=language, published_at=datetime(2026, 11, 20, tzinfo=UTC))
    analysis = pipeline.analyze(draft)
    assert analysis.scope == "city", analysis.dropped
    indexed = pipeline.index(analysis)
    return pipeline.backend.get(indexed.article.id)


def test_a_kept_foreign_article_is_stored_with_its_translation(backend, tmp_path, packages):
    install_package(packages["zh-vi"], tmp_path / "translation")
    stage = TranslationStage(ArgosEngine(tmp_path / "translation"), targets=["vi"])
    article = _index(_pipeline(backend, stage))
    vi = article.translations["vi"]
    assert set(vi) == {"title", "lead", "engine", "model"}
    assert vi["engine"] == "argos" and vi["model"] == "tiny-zh-vi 0.1"
    assert vi["title"].strip() and vi["title"] != ZH_TITLE
    assert vi["title"] == ArgosEngine(tmp_path / "translation").translate([ZH_TITLE], "zh", "vi")[0]
    assert "translation" not in article.reasons
    assert Article.from_dict(article.to_dict()).translations == article.translations


def test_an_article_in_a_target_language_is_not_translated_into_it(tmp_path, libretranslate):
    from index.sqlite import SqliteBackend

    backend = SqliteBackend(tmp_path / "index.sqlite")
    stage = TranslationStage(LibreTranslateEngine(libretranslate.url), targets=["vi", "en"])
    article = _index(_pipeline(backend, stage), title="Cảng Hải Phòng đón tàu lớn",
                     text="Cảng Hải Phòng hôm nay đón tàu container lớn nhất từ trước tới nay. " * 4, language="vi")
    backend.close()
    assert set(article.translations) == {"en"}
    assert article.translations["en"]["title"] == "[en] " + "Cảng Hải Phòng đón tàu lớn"[::-1]
    assert [r["target"] for r in libretranslate.requests] == ["en"]


def test_a_failing_engine_never_drops_the_article_nor_holds_the_next_ones(tmp_path, libretranslate, caplog):
    from index.sqlite import SqliteBackend

    backend = SqliteBackend(tmp_path / "index.sqlite")
    libretranslate.status = 503
    stage = TranslationStage(LibreTranslateEngine(libretranslate.url), targets=["vi"])
    pipeline = _pipeline(backend, stage)
    with caplog.at_level(logging.WARNING, logger="pipeline.translate"):
        first, second = _index(pipeline, 1), _index(pipeline, 2)
    backend.close()
    assert first.title == ZH_TITLE and first.translations == {} and second.translations == {}
    assert "503" in first.reasons["translation"]["failed"]["vi"]
    assert "skipped after a failure" in second.reasons["translation"]["failed"]["vi"]
    assert len(libretranslate.requests) == 1  # the second article did not wait on the engine
    assert any("translation of" in r.getMessage() and "503" in r.getMessage() for r in caplog.records)


def test_a_hanging_engine_is_abandoned_and_the_article_indexed(tmp_path, libretranslate):
    from index.sqlite import SqliteBackend

    backend = SqliteBackend(tmp_path / "index.sqlite")
    libretranslate.hold.clear()
    stage = TranslationStage(LibreTranslateEngine(libretranslate.url, timeout=0.2), targets=["vi"])
    article = _index(_pipeline(backend, stage))
    libretranslate.hold.set()
    backend.close()
    assert article is not None and article.translations == {}
    assert "did not answer" in article.reasons["translation"]["failed"]["vi"]


def test_a_bug_in_an_engine_is_logged_and_the_article_kept(tmp_path, caplog):
    from index.sqlite import SqliteBackend

    class Broken:
        name = "broken"

        def translate(self, texts, source, target):
            raise KeyError("oops")

        def pairs(self):
            return set()

        def model(self, source, target):
            return "broken-1"

    backend = SqliteBackend(tmp_path / "index.sqlite")
    with caplog.at_level(logging.ERROR, logger="pipeline.translate"):
        article = _index(_pipeline(backend, TranslationStage(Broken())))
    backend.close()
    assert article.translations == {} and "KeyError" in article.reasons["translation"]["failed"]["vi"]
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_the_installation_pipeline_translates_with_the_configured_engine(tmp_path, packages):
    from hpmon.app import build_pipeline
    from hpmon.settings import Settings
    from index.sqlite import SqliteBackend

    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir()
    backend = SqliteBackend(settings.index_path)
    without = build_pipeline(settings, backend, [], record_stories=False)
    assert without.translation is None  # no model installed: indexed without translation
    install_package(packages["zh-vi"], settings.home / "translation")
    pipeline = build_pipeline(settings, backend, [], record_stories=False)
    assert pipeline.translation is not None
    article = _index(pipeline)
    assert article.translations["vi"]["engine"] == "argos" and article.translations["vi"]["title"].strip()
    backend.close()
