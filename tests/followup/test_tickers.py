"""Two tickers at once (separate connections) send no reminder twice: SQLite (BEGIN IMMEDIATE)
and PostgreSQL (SKIP LOCKED) alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.ticker import Ticker
from chayici import build_services
from storage.models import AuditEvent, DueItem, OutboxMessage, Rectification
from tests.followup.conftest import build_flow


def _clone(services, rect_id: int, copies: int) -> None:
    """More rectifications like the first (each with its own finding and due items)."""
    from storage.models import Finding

    with services.db.write() as session:
        rect = session.get(Rectification, rect_id)
        finding = session.get(Finding, rect.finding_id)
        items = list(
            session.execute(select(DueItem).where(DueItem.ref == f"rectification:{rect_id}")).scalars()
        )
        for n in range(copies):
            f = Finding(
                **{c.key: getattr(finding, c.key) for c in Finding.__table__.columns if c.key != "id"}
            )
            session.add(f)
            session.flush()
            values = {
                c.key: getattr(rect, c.key)
                for c in Rectification.__table__.columns
                if c.key not in ("id", "finding_id")
            }
            r = Rectification(**values, finding_id=f.id)
            session.add(r)
            session.flush()
            for item in items:
                session.add(
                    DueItem(
                        kind=item.kind, ref=f"rectification:{r.id}", dedupe_key=f"{item.dedupe_key}:copy{n}".replace(f"rect:{rect_id}:", f"rect:{r.id}:"),
                        due_at=item.due_at, payload=item.payload, state="pending",
                    )
                )  # fmt: skip


def test_two_tickers_at_once_send_no_reminder_twice(services, clock, client, draw_world):
    flow = build_flow(services, clock, client, draw_world)
    _clone(services, flow.rect, 40)
    clock.set(datetime(2026, 12, 16, 2, tzinfo=UTC))  # due soon reminders due (Dec 15 09:00)
    others = [build_services(services.settings, clock=clock) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(built) -> None:
        try:
            barrier.wait()
            ticker = Ticker(built)
            for _ in range(3):
                ticker.scan_due(limit=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for built in others:
        built.db.dispose()
    assert not errors, errors
    Ticker(services).tick()  # whatever a deadlock retry postponed
    with services.db.read() as session:
        rects = session.execute(select(func.count()).select_from(Rectification)).scalar_one()
        soon = session.execute(
            select(func.count()).select_from(Rectification).where(Rectification.state == "due_soon")
        ).scalar_one()
        events = session.execute(
            select(AuditEvent.entity_id, func.count())
            .where(AuditEvent.action == "rectification.due_soon")
            .group_by(AuditEvent.entity_id)
        ).all()
        messages = session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("rect:%:due_soon:%"))
        ).scalar_one()
        verified = services.audit_log.verify(session)
    assert rects == 41 and soon == 41
    assert len(events) == 41 and all(count == 1 for _, count in events)
    assert messages == 41
    assert verified.ok, verified
