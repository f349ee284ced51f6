"""Making a bulletin and sending it: figures, text and chart, stored as sent, queued once.

One transaction does everything: derive the newest facts, compute, render the chart, insert the
``bulletin`` row (unique per kind and period: a second ticker's insert does nothing and it
stops there), audit, and queue the markdown and the chart with keys derived from the bulletin,
so the outbox also refuses a second copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import Context, Group, Users
from cards.oversight.chart import Bar, bar_chart
from handlers.oversight import capture, changes, text
from handlers.oversight.metrics import Figures, compute
from handlers.oversight.periods import Period, range_label, week_start
from storage.base import canonical_json
from storage.models import Conversation
from storage.models.oversight import Bulletin
from storage.upsert import insert_ignore

BUREAU_KINDS = ("weekly", "monthly", "manual")
IMAGE_JOB = "oversight.image"
_EPSILON = timedelta(microseconds=1)


@dataclass
class Built:
    title: str
    figures: Figures
    data: dict[str, Any]
    text: str
    chart: bytes
    previous: Bulletin | None

    @property
    def chart_sha256(self) -> str:
        return hashlib.sha256(self.chart).hexdigest()

    @property
    def figures_sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.data).encode()).hexdigest()


def previous_bureau(ctx: Context, before: datetime) -> Bulletin | None:
    """The last bureau bulletin people were shown up to ``before`` ("changed since" compares
    with it)."""
    return (
        ctx.session.execute(
            select(Bulletin)
            .where(Bulletin.unit_id.is_(None), Bulletin.kind.in_(BUREAU_KINDS), Bulletin.period_end <= before)
            .order_by(Bulletin.period_end.desc(), Bulletin.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def leadership_groups(ctx: Context) -> list[str]:
    return list(
        ctx.session.execute(
            select(Conversation.id)
            .where(Conversation.purpose == "leadership", Conversation.kind == "group")
            .order_by(Conversation.id)
        ).scalars()
    )


def on_demand_period(ctx: Context) -> Period:
    """For 通报 and 进度: since the last bureau bulletin, or since Monday when there is none."""
    previous = previous_bureau(ctx, ctx.now)
    start = previous.period_end if previous is not None else week_start(ctx.now, ctx.settings.timezone)
    return Period(min(start, ctx.now), ctx.now)


def as_of_text(moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return f"数据截至 {local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def chart_for(ctx: Context, title: str, data: dict[str, Any], highlight: int | None = None) -> bytes:
    bars = [
        Bar(
            label=unit["name"],
            total=unit["ytd"]["tasks_taken_part"],
            recent=unit["period"]["tasks_taken_part"],
            overdue=unit["standing"]["overdue_items"],
            highlight=unit["id"] == highlight,
        )
        for unit in data["units"]
    ]
    subtitle = as_of_text(datetime.fromisoformat(data["as_of"]), ctx.settings.timezone)
    return bar_chart(title, subtitle, bars, font=ctx.settings.cjk_font_path)


def build_bureau(ctx: Context, period: Period, *, title: str, subtitle: str, late_note: str = "") -> Built:
    """The bureau bulletin for ``period`` (facts derived up to now first)."""
    tz = ctx.settings.timezone
    capture.catch_up(ctx.session, tz=tz, now=ctx.now)
    figures = compute(ctx.session, period, tz=tz)
    data = figures.to_json()
    previous = previous_bureau(ctx, period.end - _EPSILON)
    lines = changes.bureau_lines(previous.figures if previous else None, data)
    body = text.bulletin(
        title, subtitle, data, lines, limit=ctx.settings.bulletin_list_limit, late_note=late_note
    )
    chart = chart_for(ctx, f"各单位完成检查任务（{_short(title)}）", data)
    return Built(title, figures, data, body, chart, previous)


def build_progress(ctx: Context, unit_id: int, unit_name: str) -> Built:
    """One unit's progress since the last bureau bulletin (进度)."""
    tz = ctx.settings.timezone
    capture.catch_up(ctx.session, tz=tz, now=ctx.now)
    period = on_demand_period(ctx)
    figures = compute(ctx.session, period, tz=tz)
    data = figures.to_json()
    unit = next((u for u in data["units"] if u["id"] == unit_id), None)
    if unit is None:
        raise LookupError(unit_id)
    previous = previous_bureau(ctx, ctx.now)
    title = f"{unit_name}工作进度"
    subtitle = f"统计期间：{range_label(period, tz)}（自上期通报以来），{as_of_text(period.end, tz)}"
    lines = changes.unit_lines(previous.figures if previous else None, data, unit_id)
    body = text.progress(title, subtitle, data, unit, lines, limit=ctx.settings.bulletin_list_limit)
    chart = chart_for(ctx, f"各单位完成检查任务（{unit_name}已标出）", data, highlight=unit_id)
    return Built(title, figures, data, body, chart, previous)


def store_and_send(
    ctx: Context,
    built: Built,
    *,
    kind: str,
    period_key: str,
    to: list[Group | Users],
    unit_id: int | None = None,
) -> Bulletin | None:
    """Store the bulletin and queue it to every destination. None when this (kind, period) was
    already stored: someone else (another ticker) sent it."""
    period = built.figures.period
    values = {
        "kind": kind,
        "period_key": period_key,
        "unit_id": unit_id,
        "title": built.title[:120],
        "period_start": period.start,
        "period_end": period.end,
        "figures": built.data,
        "figures_sha256": built.figures_sha256,
        "text": built.text,
        "chart_sha256": built.chart_sha256,
        "chart_png": built.chart,
        "destinations": [_describe(d) for d in to],
        "previous_id": built.previous.id if built.previous else None,
        "requested_by": ctx.actor,
        "created_at": ctx.now,
    }
    if not insert_ignore(ctx.session, Bulletin, values, conflict_column=("kind", "period_key")):
        return None
    bulletin = ctx.session.execute(
        select(Bulletin).where(Bulletin.kind == kind, Bulletin.period_key == period_key)
    ).scalar_one()
    ctx.audit(
        "bulletin.send",
        "bulletin",
        bulletin.id,
        detail={
            "kind": kind,
            "period_key": period_key,
            "unit_id": unit_id,
            "title": bulletin.title,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "figures_sha256": bulletin.figures_sha256,
            "chart_sha256": bulletin.chart_sha256,
            "destinations": bulletin.destinations,
        },
    )
    for destination in to:
        where = _describe(destination)
        base = f"bulletin:{bulletin.id}:{where}"
        ctx.send_markdown(destination, built.title, built.text, key=f"{base}:text")
        payload: dict[str, Any] = {"bulletin_id": bulletin.id, "sha256": bulletin.chart_sha256}
        if isinstance(destination, Group):
            payload["openConversationId"] = destination.conversation_id
            rate = ["api:oapi", "api:robot", f"group:{destination.conversation_id}"]
        else:
            payload["userIds"] = list(destination.staff_ids[:20])
            rate = ["api:oapi", "api:robot"]
        ctx.enqueue(IMAGE_JOB, payload, key=f"{base}:chart", rate_keys=rate)
    return bulletin


def _describe(destination: Group | Users) -> str:
    if isinstance(destination, Group):
        return f"group:{destination.conversation_id}"
    return "users:" + ",".join(destination.staff_ids)


def _short(title: str) -> str:
    """「综合查一次」工作进度通报（2026年第49周） -> 2026年第49周."""
    return title.rsplit("（", 1)[-1].rstrip("）") if "（" in title else title
