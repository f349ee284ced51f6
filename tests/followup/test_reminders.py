"""Reminders are due items handled by the ticker: each is sent once, on the right working day,
with the working-day calendar (a holiday and a make-up day in between)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.ticker import Ticker
from storage.models import AuditEvent, OutboxMessage, Rectification
from tests.followup.conftest import build_flow, import_calendar

BEIJING = ZoneInfo("Asia/Shanghai")


def _walk(services, clock, until: datetime) -> None:
    """Move the clock forward in 2-hour steps, ticking at each, to ``until``."""
    ticker = Ticker(services)
    while clock.now() < until:
        clock.set(clock.now() + timedelta(hours=2))
        ticker.tick()


def _sent(services, prefix: str) -> dict[str, str]:
    """Outbox keys starting with ``prefix`` -> the local day they were queued."""
    with services.db.read() as session:
        rows = session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.created_at).where(
                OutboxMessage.dedupe_key.like(f"{prefix}%")
            )
        ).all()
    return {key: created.astimezone(BEIJING).strftime("%Y-%m-%d %H") for key, created in rows}


def test_every_reminder_is_sent_once_on_the_right_working_day_across_a_holiday_and_a_make_up_day(
    services, clock, client, draw_world, tmp_path
):
    import_calendar(services, tmp_path)
    flow = build_flow(services, clock, client, draw_world)  # deadline Fri 2026-12-18
    _walk(services, clock, datetime(2027, 1, 6, 4, tzinfo=UTC))
    rect = _sent(services, f"rect:{flow.rect}:")
    # 3 working days before Fri 18th: Thu 17th, Wed 16th, then the make-up Saturday 12th
    # (Mon 14th and Tue 15th are holidays). Deadline passed: Mon 21st. SLA: 21st-23rd; late: 24th.
    assert rect == {
        f"rect:{flow.rect}:due_soon:0": "2026-12-12 09",
        f"rect:{flow.rect}:deadline:0": "2026-12-21 09",
        f"rect:{flow.rect}:overdue:team:0": "2026-12-24 09",
        f"rect:{flow.rect}:overdue:head:0": "2026-12-24 09",
    }
    with services.db.read() as session:
        actions = [
            a
            for (a,) in session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "rectification", AuditEvent.entity_id == str(flow.rect))
                .order_by(AuditEvent.id)
            )
        ]
        assert session.get(Rectification, flow.rect).state == "overdue"
    assert actions == [
        "rectification.order",
        "rectification.due_soon",
        "rectification.awaiting_reinspection",
        "rectification.overdue",
    ]
    # Publication: reviewed Thu 3 Dec; 20 working days later (the make-up Saturday counts, the two
    # holidays and 1 Jan 2027 do not) is Mon 4 Jan 2027; 5 working days before: Fri 25 Dec.
    assert _sent(services, "pub:") == {"pub:1:remind:0": "2026-12-25 09", "pub:1:overdue:0": "2027-01-05 09"}
    created = {
        k: v for k, v in _sent(services, f"card:reinspect-{flow.rect}-").items() if k.endswith(":create")
    }
    assert len(created) == 3 and set(created.values()) == {"2026-12-21 09"}  # the 复查 card, to the team
