"""The ticker's claim marks due items done in the same statement; what fails is put back.

These are the paths a reminder takes when something goes wrong: a handler that raises, a batch
with one bad row, a kind nobody handles. Nothing may be lost (the item comes back as pending,
later, with the error) and nothing may run twice (an item handled once is not claimed again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.ticker import Ticker
from storage import due as due_items
from storage.models import DueItem

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _schedule(services, kind: str, refs: list[str], *, due_at: datetime = NOW) -> None:
    with services.db.write() as session:
        for ref in refs:
            due_items.schedule(session, kind=kind, ref=ref, due_at=due_at, dedupe_key=f"{kind}:{ref}")


def _items(services, kind: str) -> dict[str, DueItem]:
    with services.db.read() as session:
        rows = session.execute(select(DueItem).where(DueItem.kind == kind)).scalars().all()
        session.expunge_all()
    return {row.ref: row for row in rows}


def test_claim_returns_due_items_in_due_order_and_marks_them_done(services):
    _schedule(services, "test.order", ["b"], due_at=NOW - timedelta(minutes=1))
    _schedule(services, "test.order", ["a"], due_at=NOW - timedelta(minutes=5))
    _schedule(services, "test.order", ["later"], due_at=NOW + timedelta(minutes=5))
    with services.db.write() as session:
        claimed = due_items.claim_due(session, now=NOW, limit=10)
    assert [row.ref for row in claimed] == ["a", "b"]
    items = _items(services, "test.order")
    assert (items["a"].state, items["b"].state, items["later"].state) == ("done", "done", "pending")
    assert items["a"].done_at == NOW
    with services.db.write() as session:
        assert due_items.claim_due(session, now=NOW, limit=10) == []


def test_a_claim_rolled_back_leaves_the_items_pending(services):
    _schedule(services, "test.rollback", ["x"])
    try:
        with services.db.write() as session:
            assert len(due_items.claim_due(session, now=NOW, limit=10)) == 1
            raise RuntimeError("the tick died")
    except RuntimeError:
        pass
    assert _items(services, "test.rollback")["x"].state == "pending"


def test_a_failing_handler_is_postponed_with_its_error_and_runs_again_later(services, clock):
    calls: list[str] = []

    @services.router.on_due("test.flaky")
    def flaky(ctx, item) -> None:
        calls.append(item.ref)
        if len(calls) == 1:
            raise ValueError("对方接口暂时不可用")

    clock.set(NOW)
    _schedule(services, "test.flaky", ["one"])
    ticker = Ticker(services)
    assert ticker.scan_due() == 0
    item = _items(services, "test.flaky")["one"]
    assert item.state == "pending"
    assert item.due_at == NOW + timedelta(minutes=5)
    assert item.done_at is None
    assert "ValueError" in (item.last_error or "")
    assert ticker.scan_due() == 0  # not due again yet
    clock.set(NOW + timedelta(minutes=6))
    assert ticker.scan_due() == 1
    assert calls == ["one", "one"]
    assert _items(services, "test.flaky")["one"].state == "done"
    assert ticker.scan_due() == 0
    assert calls == ["one", "one"]


def test_a_failing_batch_is_retried_one_by_one_and_only_the_bad_item_waits(services, clock):
    seen: list[list[str]] = []

    @services.router.on_due_batch("test.batch")
    def batch(ctx, items) -> None:
        refs = [item.ref for item in items]
        seen.append(refs)
        if "bad" in refs:
            raise ValueError("坏数据")

    clock.set(NOW)
    _schedule(services, "test.batch", ["good1", "bad", "good2"])
    assert Ticker(services).scan_due() == 2
    assert seen[0] == ["good1", "bad", "good2"]  # due order, then id
    assert sorted(seen[1:]) == [["bad"], ["good1"], ["good2"]]
    items = _items(services, "test.batch")
    assert (items["good1"].state, items["good2"].state) == ("done", "done")
    assert items["bad"].state == "pending"
    assert items["bad"].due_at > NOW


def test_an_item_of_an_unknown_kind_is_kept_for_an_hour_not_dropped(services, clock):
    clock.set(NOW)
    _schedule(services, "test.nobody", ["orphan"])
    assert Ticker(services).scan_due() == 0
    item = _items(services, "test.nobody")["orphan"]
    assert item.state == "pending"
    assert item.due_at == NOW + timedelta(hours=1)
    assert "no handler" in (item.last_error or "")
