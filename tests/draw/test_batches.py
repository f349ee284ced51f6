"""The batch paths the dispatch relies on: many cards in one event, a block of numbers, and the
worker placing a call in its rate window when the call returned."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.context import CardToSend, Group
from bot.dingtalk.client import DingTalkClient
from bot.worker import OutboxWorker
from storage import outbox
from storage.models import CardInstance, OutboxMessage, RateEvent
from storage.numbers import allocate, allocate_block
from tests.draw.conftest import context


def test_send_cards_creates_each_card_once_and_updates_an_existing_one(services, clock):
    cards = [
        CardToSend("notice", f"batch-{n}", f"staff-{n}", {"title": f"第{n}张"}, audience=(f"staff-{n}",), entity=("assignment_member", n))
        for n in range(3)
    ]  # fmt: skip
    with services.db.write() as session:
        context(services, session).send_cards(cards)
    with services.db.write() as session:
        context(services, session).send_cards(
            [
                CardToSend("notice", "batch-0", "staff-0", {"title": "改"}),  # changed: updated
                cards[1],  # unchanged: nothing queued
                CardToSend("notice", "batch-9", Group("cidX=="), {"title": "群卡片"}),  # new
            ]
        )
    with services.db.read() as session:
        creates = session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "card.create")
        ).scalar_one()
        updates = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "card.update")).scalars()
        )
        first = session.get(CardInstance, "batch-0")
        group = session.get(CardInstance, "batch-9")
    assert creates == 4
    assert [u.payload["outTrackId"] for u in updates] == ["batch-0"] and first.params["title"] == "改"
    assert (group.space_type, group.space_id) == ("IM_GROUP", "cidX==")
    with services.db.read() as session:
        second = session.get(CardInstance, "batch-2")
        assert (second.space_type, second.space_id, second.audience) == ("IM_ROBOT", "staff-2", ["staff-2"])
        assert (second.entity_type, second.entity_id, second.params) == (
            "assignment_member",
            "2",
            {"title": "第2张"},
        )
        assert (second.version, second.state, second.created_at) == (1, "active", clock.now())


def test_a_block_of_numbers_continues_the_sequence_and_is_never_handed_out_again(services, clock):
    with services.db.write() as session:
        assert allocate(session, issuer="丽综执", code="检通", year=2026) == 1
        assert allocate_block(session, issuer="丽综执", code="检通", year=2026, count=3) == [2, 3, 4]
        assert allocate(session, issuer="丽综执", code="检通", year=2026) == 5
        assert allocate_block(session, issuer="丽综执", code="检通", year=2027, count=2) == [1, 2]


def test_a_call_counts_in_its_rate_window_from_when_it_returned(services, clock):
    def slow_job(job, payload):
        clock.advance(seconds=0.25)  # the round trip
        return "done"

    services.router.jobs["test.slow"] = slow_job
    try:
        with services.db.write() as session:
            outbox.enqueue(
                session,
                kind="test.slow",
                dedupe_key="slow-1",
                payload={},
                now=clock.now(),
                rate_keys=["api:card"],
            )
        started = clock.now()
        worker = OutboxWorker(services, DingTalkClient(services.settings), worker_id="w")
        assert worker.run_once().sent == 1
    finally:
        del services.router.jobs["test.slow"]
    with services.db.read() as session:
        event = session.execute(select(RateEvent)).scalar_one()
    assert event.started and event.at == started + timedelta(seconds=0.25)
