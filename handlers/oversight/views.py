"""What the progress page and its export show: the period asked for, the figures, the month's
timeline. One function reads the database; the page and the workbook are pure builders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.oversight import capture, queries
from handlers.oversight.bulletin import as_of_text
from handlers.oversight.metrics import Figures, compute
from handlers.oversight.periods import (
    Period,
    day_end,
    month_end,
    month_start,
    range_label,
    week_start,
    year_start,
)
from storage.models.tasks import Task

CHOICES = {"week": "本周", "month": "本月", "year": "本年"}
WHAT = {"task.create": "发起", "task.dispatch": "分发", "task.review": "完成"}
MAX_DAYS = 400


class BadPeriod(ValueError):
    """The requested dates cannot be read. The message is for users."""


@dataclass(frozen=True)
class Choice:
    key: str  # week | month | year | custom
    period: Period
    query: dict[str, str]


def choose(args: dict[str, str], now: datetime, tz: str) -> Choice:
    """?p=week|month|year (default month), or ?from=YYYY-MM-DD&to=YYYY-MM-DD (local dates, both
    included; a range reaching past now stops at now)."""
    start_text, end_text = args.get("from", "").strip(), args.get("to", "").strip()
    if start_text or end_text:
        try:
            first = date.fromisoformat(start_text)
            last = date.fromisoformat(end_text) if end_text else now.astimezone(ZoneInfo(tz)).date()
        except ValueError:
            raise BadPeriod("日期格式应为 2026-12-01。") from None
        if last < first:
            raise BadPeriod("结束日期不能早于开始日期。")
        if (last - first).days > MAX_DAYS:
            raise BadPeriod(f"一次最多查看 {MAX_DAYS} 天。")
        start = datetime.combine(first, datetime.min.time(), tzinfo=ZoneInfo(tz))
        end = min(day_end(last, tz), now)
        return Choice(
            "custom", Period(min(start, end), end), {"from": first.isoformat(), "to": last.isoformat()}
        )
    key = args.get("p", "month")
    if key not in CHOICES:
        key = "month"
    start = {"week": week_start, "month": month_start, "year": year_start}[key](now, tz)
    return Choice(key, Period(start, now), {"p": key})


def build(
    session: Session, choice: Choice, *, now: datetime, tz: str, highlight: int | None
) -> tuple[Figures, dict[str, Any]]:
    """Derive new facts, compute, and put together what the page shows."""
    capture.catch_up(session, tz=tz, now=now)
    figures = compute(session, choice.period, tz=tz)
    view = figures.to_json()
    nav = [
        {"text": text, "href": "/dashboard?" + urlencode({"p": key}), "on": choice.key == key}
        for key, text in CHOICES.items()
    ]
    nav.append({"text": "导出表格", "href": "/dashboard/export.xlsx?" + urlencode(choice.query)})
    view.update(
        title="「综合查一次」工作进度看板",
        period_label=range_label(choice.period, tz),
        as_of_label=as_of_text(now, tz),
        nav=nav,
        highlight=highlight,
        timeline=timeline(session, now, tz),
    )
    return figures, view


def timeline(session: Session, now: datetime, tz: str) -> dict[str, Any]:
    """The current month day by day, and its newest task events."""
    start, end = month_start(now, tz), month_end(now, tz)
    month = Period(start, min(end, now))
    counts = queries.timeline(session, month)
    today = now.astimezone(ZoneInfo(tz)).date()
    days = []
    day = start.date()
    while day < end.date():
        found = counts.get(day, {})
        days.append(
            {
                "day": day.isoformat(),
                "label": str(day.day),
                "records": found.get("record.submit", 0),
                "tasks": found.get("task.dispatch", 0) + found.get("task.review", 0),
                "dispatched": found.get("task.dispatch", 0),
                "finished": found.get("task.review", 0),
                "created": found.get("task.create", 0),
                "rect_closed": found.get("rectification.closed", 0),
                "rect_overdue": found.get("rectification.overdue", 0),
                "published": found.get("publication.published", 0),
                "today": day == today,
                "future": day > today,
            }
        )
        day += timedelta(days=1)
    raw = queries.task_events(session, month)
    task_ids = sorted({t for _, _, t, _ in raw if t is not None})
    numbers = (
        dict(session.execute(select(Task.id, Task.number).where(Task.id.in_(task_ids))).all())
        if task_ids
        else {}
    )
    units = queries.names_of_units(session, {u for _, _, _, u in raw if u is not None})
    events = [
        {
            "when": f"{at.astimezone(ZoneInfo(tz)):%m-%d %H:%M}",
            "what": WHAT.get(kind, kind),
            "task": numbers.get(task_id, f"任务{task_id}"),
            "unit": units.get(unit_id, "") if unit_id else "",
        }
        for at, kind, task_id, unit_id in raw
    ]
    local = start.astimezone(ZoneInfo(tz))
    return {"title": f"{local.year}年{local.month}月时间线", "days": days, "events": events}
