"""The charts: real PNGs of the expected size whose text (Vietnamese included) has every glyph."""

from __future__ import annotations

import io
import warnings
from datetime import timedelta

import pytest
from PIL import Image

from alerts.digest.charts import DPI, HEIGHT_IN, WIDTH_IN, bar_chart, render_charts, volume_chart
from alerts.digest.collect import collect_digest
from alerts.digest.i18n import Translator
from tests.digest.conftest import BASE_URL, CITY, DAY


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_vietnamese_chart_text_renders_without_missing_glyphs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        image = png(bar_chart([("Chủ quyền biển đảo, biên giới", 3), ("Nhân quyền, tôn giáo, dân tộc", 1),
                               ("Đầu tư, kinh tế", 2)], "Số bài trong ngày theo lĩnh vực"))
    assert image.format == "PNG" and image.width == round(WIDTH_IN * DPI)


def test_the_missing_glyph_check_does_catch_a_font_without_the_characters():
    with pytest.warns(UserWarning, match="missing from font"):
        bar_chart([("海防", 1)], "海防")  # DejaVu Sans has no Han characters: the check above can fail


def test_volume_chart_draws_bars_in_the_series_colours():
    days = [DAY - timedelta(days=n) for n in range(29, -1, -1)]
    image = png(volume_chart(days, {"domestic": [0] * 29 + [6], "foreign": [0] * 29 + [6]},
                             {"domestic": "Báo trong nước", "foreign": "Báo nước ngoài"}, "Số bài mỗi ngày"))
    assert image.size == (round(WIDTH_IN * DPI), round(HEIGHT_IN * DPI))
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=100_000)}
    assert (0x1F, 0x5F, 0x99) in colours and (0xE0, 0x8A, 0x1E) in colours


def test_each_profile_gets_its_charts(backend, profiles, taxonomy):
    for profile, expected in (("sotttt", ["volume_scope", "volume_sentiment", "topics", "languages"]),
                              ("songoaivu", ["volume_sentiment", "countries", "languages", "topics"])):
        data = collect_digest(backend, profiles[profile], DAY, timezone="Asia/Ho_Chi_Minh", city=CITY,
                              base_url=BASE_URL, topic_order=taxonomy.topic_order)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            charts = render_charts(data, Translator("vi", taxonomy))
        assert [c.id for c in charts] == expected
        assert all(png(c.png).format == "PNG" for c in charts)
        if profile == "sotttt":
            assert data.volume_scope["domestic"][-1] == 6 and data.volume_scope["foreign"][-1] == 6
            assert data.volume_scope["foreign"][-21] == 3  # DAY-20
            assert data.volume_sentiment["negative"][-1] == 2 and data.volume_sentiment["unknown"][-1] == 1
