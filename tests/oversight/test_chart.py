"""The bulletin chart (Pillow PNG) and the page's inline SVG (pure)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from cards.oversight import chart, svg
from cards.oversight.chart import Bar, bar_chart

BARS = [
    Bar("市容环境卫生监管处", 12, 3, 0),
    Bar("市政公用监管处", 9, 1, 2, highlight=True),
    Bar("城市规划监管处", 0, 0, 1),
]


def test_the_chart_is_a_png_with_one_row_per_unit() -> None:
    png = bar_chart("各单位完成检查任务（2026年第49周）", "数据截至 2026年12月7日 09:00", BARS)
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.width) == ("PNG", chart.WIDTH)
    taller = Image.open(io.BytesIO(bar_chart("t", "s", [*BARS, Bar("指挥中心", 1, 0, 0)])))
    assert taller.height - image.height == chart.ROW


def test_the_same_figures_give_the_same_bytes_so_the_hash_identifies_the_chart() -> None:
    first = bar_chart("标题", "副标题", BARS)
    assert first == bar_chart("标题", "副标题", BARS)
    assert first != bar_chart("标题", "副标题", [Bar("市容环境卫生监管处", 13, 3, 0), *BARS[1:]])


def test_the_highlighted_unit_and_an_overdue_tag_are_drawn() -> None:
    image = Image.open(io.BytesIO(bar_chart("t", "s", BARS))).convert("RGB")
    highlighted_row_y = 120 + chart.ROW * 1 + 3
    assert image.getpixel((5, highlighted_row_y)) == chart.HIGHLIGHT
    reds = sum(
        1
        for x in range(chart.WIDTH - 120, chart.WIDTH)
        if image.getpixel((x, 120 + chart.ROW + chart.ROW // 2)) == chart.RED
    )
    assert reds > 10


def test_without_a_cjk_font_the_chart_is_still_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "KNOWN_CJK_FONTS", ())
    chart.font_path.cache_clear()
    try:
        png = bar_chart("标题", "副标题", BARS, font="/nonexistent/font.ttc")
    finally:
        chart.font_path.cache_clear()
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_no_units_gives_an_empty_chart_not_an_error() -> None:
    assert Image.open(io.BytesIO(bar_chart("t", "s", []))).format == "PNG"


def test_svg_text_is_escaped_and_bars_scale_to_the_largest() -> None:
    out = svg.hbars([svg.HBar("<b>甲</b>", 10, 2, 1), svg.HBar("乙", 5)], title='"x"')
    assert "<b>" not in out and "&lt;b&gt;" in out and 'aria-label="&quot;x&quot;"' in out
    assert out.count("<rect") >= 4


@pytest.mark.parametrize(("rate", "colour"), [(None, svg.GREY), (0.95, svg.GREEN), (0.5, svg.ORANGE)])
def test_a_meter_is_green_when_good_and_grey_without_data(rate: Any, colour: str) -> None:
    assert colour in svg.meter(rate)
