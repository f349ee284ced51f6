"""``storage.inbox``: an event row and its messages are written together, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from storage import inbox, outbox
from storage.models import InboxEvent, OutboxMessage

NOW = datetime(2026, 12, 1, 1, 2, 3, tzinfo=UTC)


def _messages(tag: str) -> list[outbox.Pending]:
    return [
        outbox.Pending("robot.group", f"{tag}:1", {"msgKey": "sampleText", "msgParam": {"content": "第一条"}}, ("api:robot",)),
        outbox.Pending("robot.oto", f"{tag}:2", {"userIds": ["s1"], "msgParam": {"content": "第二条"}}, ("api:robot", "x")),
    ]  # fmt: skip


def _record(services, key: str, messages, *, touch: bool = False) -> bool:
    with services.db.write() as session:
        if touch:  # the handler read something: the transaction is open already
            session.execute(text("SELECT 1"))
        return inbox.record(
            services.db, session, event_key=key, kind="robot", at=NOW, messages=messages, max_attempts=5
        )


def _rows(services):
    with services.db.read() as session:
        events = session.execute(select(InboxEvent)).scalars().all()
        queued = session.execute(select(OutboxMessage).order_by(OutboxMessage.dedupe_key)).scalars().all()
        session.expunge_all()
    return events, queued


def test_a_new_event_is_recorded_with_its_messages_as_the_orm_would_write_them(services):
    assert _record(services, "robot:a", _messages("a"))
    events, queued = _rows(services)
    assert [(e.event_key, e.kind, e.received_at, e.response_body) for e in events] == [
        ("robot:a", "robot", NOW, "{}")
    ]
    assert [(q.dedupe_key, q.kind, q.rate_keys, q.state, q.attempts, q.max_attempts) for q in queued] == [
        ("a:1", "robot.group", "api:robot", "pending", 0, 5),
        ("a:2", "robot.oto", "api:robot,x", "pending", 0, 5),
    ]
    assert queued[0].payload == {"msgKey": "sampleText", "msgParam": {"content": "第一条"}}
    assert queued[1].next_attempt_at == NOW and queued[1].created_at == NOW


def test_a_seen_event_writes_nothing_and_says_so_on_either_path(services):
    assert _record(services, "robot:b", [])
    assert not _record(services, "robot:b", _messages("b"))
    assert not _record(services, "robot:b", _messages("c"), touch=True)
    events, queued = _rows(services)
    assert len(events) == 1 and queued == []


def test_inside_an_open_transaction_the_event_and_messages_roll_back_with_it(services):
    try:
        with services.db.write() as session:
            session.execute(text("SELECT 1"))
            assert inbox.record(
                services.db,
                session,
                event_key="robot:d",
                kind="robot",
                at=NOW,
                messages=_messages("d"),
                max_attempts=5,
            )
            raise RuntimeError("the handler's transaction fails after recording")
    except RuntimeError:
        pass
    assert _rows(services) == ([], [])
    assert _record(services, "robot:d", _messages("d"), touch=True)


def test_seen_tells_a_recorded_event_from_a_new_one(services):
    _record(services, "robot:e", [])
    with services.db.write() as session:
        assert inbox.seen(services.db, session, "robot:e")
        assert not inbox.seen(services.db, session, "robot:f")


def test_the_messages_recorded_with_an_event_are_claimable_by_the_worker_at_once(services):
    _record(services, "robot:g", _messages("g"))
    with services.db.write() as session:
        claimed, _later = outbox.claim(
            session,
            worker_id="w1",
            now=NOW,
            lease_seconds=30,
            limit=10,
            rates=lambda key: None,
            postgres=services.db.is_postgres,
        )
    assert sorted(row.dedupe_key for row in claimed) == ["g:1", "g:2"]


def test_only_the_autocommit_pool_skips_waiting_for_the_wal_flush(services):
    """The reply-only fast path may lose its last commits in a crash; a handler's writes may not."""
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no separate autocommit pool")
    with services.db.autocommit() as connection:
        assert connection.execute("SHOW synchronous_commit").fetchone()[0] == "off"
        assert connection.autocommit
    with services.db.write() as session:
        assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
