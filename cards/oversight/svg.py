"""Small inline SVG charts for the progress page. Pure text builders, escaped, no scripts, no
external references: they render inside a page whose CSP allows nothing from elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

BLUE = "#4a86e8"
ORANGE = "#f5a623"
RED = "#d93025"
GREEN = "#1e8e3e"
GREY = "#dadce0"
TEXT = "#3c4043"


@dataclass(frozen=True)
class HBar:
    label: str
    total: int
    recent: int = 0
    overdue: int = 0
    highlight: bool = False


def _nice(value: int) -> int:
    power = 1
    while True:
        for factor in (1, 2, 3, 4, 5):
            if power * factor * 5 >= value:
                return power * factor * 5
        power *= 10


def hbars(rows: list[HBar], *, title: str) -> str:
    """One bar per unit: the year's finished tasks, this period's part in orange, overdue tag."""
    row_h, label_w, width = 30, 112, 420
    height = 24 + row_h * max(1, len(rows)) + 8
    maximum = _nice(max([r.total for r in rows] + [1]))
    x0, x1 = label_w + 6, width - 96
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(6):
        x = x0 + (x1 - x0) * tick / 5
        parts.append(
            f'<line x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height - 8}" stroke="{GREY}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="12" font-size="11" fill="{TEXT}" text-anchor="middle">{maximum * tick // 5}</text>'
        )
    for index, row in enumerate(rows):
        y = 24 + index * row_h
        if row.highlight:
            parts.append(f'<rect x="0" y="{y - 3}" width="{width}" height="{row_h}" fill="#fff4d6"/>')
        full = (x1 - x0) * min(row.total, maximum) / maximum
        recent = (x1 - x0) * min(row.recent, row.total, maximum) / maximum
        label = row.label if len(row.label) <= 8 else row.label[:7] + "…"
        parts.append(
            f'<text x="{label_w}" y="{y + 15}" font-size="12" fill="{TEXT}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{x0}" y="{y + 2}" width="{full:.1f}" height="18" fill="{BLUE}"/>')
        if recent > 0:
            parts.append(
                f'<rect x="{x0 + full - recent:.1f}" y="{y + 2}" width="{recent:.1f}" height="18" fill="{ORANGE}"/>'
            )
        number = f"{row.total}" + (f" (+{row.recent})" if row.recent else "")
        parts.append(
            f'<text x="{x0 + full + 5:.1f}" y="{y + 16}" font-size="12" fill="{TEXT}">{number}</text>'
        )
        if row.overdue:
            parts.append(
                f'<rect x="{width - 52}" y="{y + 2}" width="50" height="18" rx="4" fill="{RED}"/>'
                f'<text x="{width - 27}" y="{y + 15}" font-size="11" fill="#fff" text-anchor="middle">'
                f"逾期 {row.overdue}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def meter(rate: float | None, *, good: float = 0.9) -> str:
    """A tiny rate bar for a table cell (green at or above ``good``, orange below, grey = none)."""
    width = 60
    if rate is None:
        return f'<svg class="meter" viewBox="0 0 {width} 8" xmlns="http://www.w3.org/2000/svg"><rect width="{width}" height="8" rx="2" fill="{GREY}"/></svg>'
    fill = GREEN if rate >= good else ORANGE
    return (
        f'<svg class="meter" viewBox="0 0 {width} 8" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{width}" height="8" rx="2" fill="{GREY}"/>'
        f'<rect width="{width * max(0.0, min(rate, 1.0)):.1f}" height="8" rx="2" fill="{fill}"/></svg>'
    )


def progress(done: int, required: int, *, status: str) -> str:
    """A theme's joint inspections against the required number."""
    width = 200
    share = min(done, required) / required if required else 0
    fill = {"overdue": RED, "fulfilled": GREEN, "fulfilled_late": ORANGE}.get(status, BLUE)
    return (
        f'<svg class="progress" viewBox="0 0 {width} 14" role="img" aria-label="联合检查 {done}/{required}" '
        f'xmlns="http://www.w3.org/2000/svg"><rect width="{width}" height="14" rx="7" fill="{GREY}"/>'
        f'<rect width="{width * share:.1f}" height="14" rx="7" fill="{fill}"/></svg>'
    )


@dataclass(frozen=True)
class Day:
    label: str  # "1" .. "31"
    value: int  # records submitted
    marks: int  # tasks dispatched or finished that day
    today: bool = False
    future: bool = False


def columns(days: list[Day], *, title: str) -> str:
    """The month's timeline: one column per day (records submitted), a dot per day with task
    events (dispatched or finished), today outlined."""
    width, height, base = 420, 130, 100
    step = width / max(1, len(days))
    maximum = max([d.value for d in days] + [1])
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{GREY}"/>',
    ]
    for index, day in enumerate(days):
        x = index * step
        bar = (base - 20) * day.value / maximum
        fill = GREY if day.future else BLUE
        if bar > 0:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{base - bar:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{fill}">'
                f"<title>{escape(day.label)}日：提交检查记录 {day.value} 份，任务分发或完成 {day.marks} 项</title></rect>"
            )
        if day.marks:
            parts.append(f'<circle cx="{x + step / 2:.1f}" cy="{base + 10}" r="4" fill="{ORANGE}"/>')
        if day.today:
            parts.append(
                f'<rect x="{x + 1:.1f}" y="4" width="{step - 2:.1f}" height="{base + 20}" fill="none" stroke="{RED}" stroke-width="1.5"/>'
            )
        if index % 5 == 0 or day.today:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 4}" font-size="11" fill="{TEXT}" text-anchor="middle">{escape(day.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
