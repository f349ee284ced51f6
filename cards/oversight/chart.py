"""The bulletin's bar chart: one bar per unit, drawn with Pillow as a PNG.

Deterministic: the same bars give the same bytes (no timestamps or metadata), so a bulletin
can store the chart's SHA-256 as "what it showed". The WenQuanYi font (fonts-wqy-microhei) or
another installed CJK font is used when present; without one, Pillow's built-in font draws the
digits and Latin text and the Chinese labels degrade to boxes rather than failing.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from cards.documents.fonts import KNOWN_CJK_FONTS

log = logging.getLogger(__name__)

WIDTH = 960
ROW = 46
BAR = 24
MARGIN = 24
BLUE = (74, 134, 232)
ORANGE = (245, 166, 35)
RED = (217, 48, 37)
GREY = (95, 99, 104)
LIGHT = (232, 234, 237)
HIGHLIGHT = (255, 244, 214)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Bar:
    label: str
    total: int  # finished tasks taken part in this year
    recent: int  # ... of which in this period
    overdue: int  # open overdue items
    highlight: bool = False


@cache
def font_path(configured: str = "") -> str | None:
    for path in ([configured] if configured else []) + list(KNOWN_CJK_FONTS):
        if Path(path).is_file():
            try:
                ImageFont.truetype(path, 12)
            except OSError:
                continue
            return path
    log.warning("no CJK font found for the bulletin chart; Chinese labels will not render")
    return None


def _font(size: int, configured: str) -> Font:
    path = font_path(configured)
    if path is not None:
        return ImageFont.truetype(path, size)
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow without FreeType: a fixed bitmap font
        return ImageFont.load_default()


def _width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> float:
    return draw.textlength(text, font=font)


def _scale_max(value: int) -> int:
    """A round axis maximum at or above ``value``: five ticks of 1-5 times a power of ten."""
    power = 1
    while True:
        for factor in (1, 2, 3, 4, 5):
            if power * factor * 5 >= value:
                return power * factor * 5
        power *= 10


def bar_chart(title: str, subtitle: str, bars: list[Bar], *, font: str = "") -> bytes:
    """A PNG: one row per unit (in the given order), the year's bar with this period's part in
    orange, the number, and a red tag for open overdue items."""
    title_font, small, label_font = _font(28, font), _font(18, font), _font(20, font)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = min(300, max([_width(probe, b.label, label_font) for b in bars] + [80]))
    height = 120 + ROW * max(1, len(bars)) + 56
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 18), title, fill=(32, 33, 36), font=title_font)
    draw.text((MARGIN, 60), subtitle, fill=GREY, font=small)
    x0 = MARGIN + label_w + 16
    x1 = WIDTH - MARGIN - 190
    top = 120
    maximum = _scale_max(max([b.total for b in bars] + [1]))
    for tick in range(0, 6):
        x = x0 + (x1 - x0) * tick / 5
        draw.line([(x, top - 6), (x, top + ROW * max(1, len(bars)))], fill=LIGHT, width=1)
        label = str(maximum * tick // 5)
        draw.text((x - _width(draw, label, small) / 2, top - 28), label, fill=GREY, font=small)
    if not bars:
        draw.text((x0, top + 10), "暂无单位数据", fill=GREY, font=label_font)
    for index, bar in enumerate(bars):
        y = top + index * ROW
        if bar.highlight:
            draw.rectangle([(0, y), (WIDTH, y + ROW - 1)], fill=HIGHLIGHT)
        name = bar.label
        while _width(draw, name, label_font) > label_w and len(name) > 2:
            name = name[:-2] + "…"
        draw.text(
            (MARGIN + label_w - _width(draw, name, label_font), y + (ROW - 24) / 2),
            name,
            fill=(32, 33, 36),
            font=label_font,
        )
        bar_top = y + (ROW - BAR) / 2
        full = (x1 - x0) * min(bar.total, maximum) / maximum
        recent = (x1 - x0) * min(bar.recent, bar.total, maximum) / maximum
        if full > 0:
            draw.rectangle([(x0, bar_top), (x0 + full, bar_top + BAR)], fill=BLUE)
        if recent > 0:
            draw.rectangle([(x0 + full - recent, bar_top), (x0 + full, bar_top + BAR)], fill=ORANGE)
        number = f"{bar.total}" + (f" (+{bar.recent})" if bar.recent else "")
        text_x = x0 + full + 8
        draw.text((text_x, y + (ROW - 22) / 2), number, fill=(32, 33, 36), font=small)
        if bar.overdue:
            tag = f"逾期 {bar.overdue}"
            tag_x = WIDTH - MARGIN - _width(draw, tag, small) - 16
            draw.rounded_rectangle(
                [(tag_x - 8, bar_top), (WIDTH - MARGIN, bar_top + BAR)], radius=6, fill=RED
            )
            draw.text((tag_x, bar_top + 1), tag, fill="white", font=small)
    legend_y = height - 40
    draw.rectangle([(MARGIN, legend_y + 4), (MARGIN + 18, legend_y + 20)], fill=BLUE)
    draw.text((MARGIN + 26, legend_y), "本年完成任务（牵头或参加）", fill=GREY, font=small)
    draw.rectangle([(MARGIN + 300, legend_y + 4), (MARGIN + 318, legend_y + 20)], fill=ORANGE)
    draw.text((MARGIN + 326, legend_y), "其中本期完成", fill=GREY, font=small)
    draw.rounded_rectangle([(MARGIN + 470, legend_y + 4), (MARGIN + 488, legend_y + 20)], radius=4, fill=RED)
    draw.text((MARGIN + 496, legend_y), "逾期未办事项", fill=GREY, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
