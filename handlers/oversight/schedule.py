"""Scheduled bulletins: due items the ticker scans, and the periodic scan that keeps them ahead.

Every minute the ``oversight`` scan derives new facts (a bounded batch) and makes sure the next
occurrence of every schedule rule has a due item (keyed by rule and occurrence, so every ticker
inserts the same row once). When the item falls due, the bulletin for that occurrence is built
and stored; its unique (kind, period) row and its outbox keys make a second ticker's attempt a
no-op. A worker that was stopped at the due time sends the bulletin when it comes back, with the
figures as of the scheduled moment and a note that it is late.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import Context, Group, TickContext
from bot.router import Router
from handlers.oversight import bulletin, capture
from handlers.oversight.periods import (
    Rule,
    month_label,
    occurrence_after,
    parse_schedule,
    period_key,
    period_of,
    range_label,
    week_label,
)
from storage.models import DueItem
from storage.models.oversight import Bulletin

log = logging.getLogger(__name__)

DUE_KIND = "oversight.bulletin"
SCAN_SECONDS = 60.0
CATCH_UP_LIMIT = 20_000  # audit events derived per scan (keeps the ticker's transaction short)
LATE = timedelta(hours=1)


def rules(ctx: Context) -> list[Rule]:
    try:
        return parse_schedule(ctx.settings.bulletin_schedule)
    except ValueError as exc:
        log.error("CHAYICI_BULLETIN_SCHEDULE is invalid, no bulletins are scheduled: %s", exc)
        return []


def ensure_scheduled(ctx: Context) -> int:
    """A due item for the next occurrence of every rule; stale items of rules no longer in the
    schedule are cancelled. Returns the number of items added."""
    tz = ctx.settings.timezone
    current = rules(ctx)
    specs = {rule.spec for rule in current}
    added = 0
    for rule in current:
        moment = occurrence_after(rule, ctx.now, tz)
        key = f"{DUE_KIND}:{period_key(rule, moment, tz)}"
        payload = {"rule": rule.spec, "at": moment.isoformat()}
        added += ctx.schedule(DUE_KIND, "bulletin", moment, key=key, payload=payload)
    stale = ctx.session.execute(
        select(DueItem).where(DueItem.kind == DUE_KIND, DueItem.state == "pending")
    ).scalars()
    for item in stale:
        if (item.payload or {}).get("rule") not in specs:
            item.state, item.done_at = "cancelled", ctx.now
    return added


def title_for(rule: Rule, moment: datetime, tz: str) -> str:
    period = period_of(rule, moment, tz)
    label = week_label(period, tz) if rule.kind == "weekly" else month_label(period, tz)
    return f"「综合查一次」工作进度通报（{label}）"


def send_scheduled(ctx: Context, rule: Rule, moment: datetime) -> Bulletin | None:
    """Build and send the bulletin of one occurrence, unless it was already sent."""
    tz = ctx.settings.timezone
    key = period_key(rule, moment, tz)
    done = ctx.session.execute(
        select(Bulletin.id).where(Bulletin.kind == rule.kind, Bulletin.period_key == key)
    ).first()
    if done is not None:
        return None
    period = period_of(rule, moment, tz)
    local = moment.astimezone(ZoneInfo(tz))
    late = ""
    if ctx.now - moment > LATE:
        late = f"（本期通报原定 {local.month}月{local.day}日 {local:%H:%M} 发送，因系统暂停延后，数据仍截至原定时间。）"
    built = bulletin.build_bureau(
        ctx,
        period,
        title=title_for(rule, moment, tz),
        subtitle=f"统计期间：{range_label(period, tz)}，{bulletin.as_of_text(period.end, tz)}",
        late_note=late,
    )
    groups = bulletin.leadership_groups(ctx)
    if not groups:
        log.warning("bulletin %s stored but not sent: no conversation has purpose 'leadership'", key)
    return bulletin.store_and_send(ctx, built, kind=rule.kind, period_key=key, to=[Group(g) for g in groups])


def register(router: Router) -> None:
    @router.periodic("oversight", SCAN_SECONDS)
    def scan(ctx: TickContext) -> None:
        capture.catch_up(ctx.session, tz=ctx.settings.timezone, now=ctx.now, limit=CATCH_UP_LIMIT)
        ensure_scheduled(ctx)

    @router.on_due(DUE_KIND)
    def due(ctx: TickContext, item: Any) -> None:
        payload = item.payload or {}
        found = parse_schedule(str(payload.get("rule", "")))
        if len(found) != 1:
            raise ValueError(f"bad bulletin due item payload {payload!r}")
        send_scheduled(ctx, found[0], datetime.fromisoformat(payload["at"]))
