"""``storage.bulk.insert_rows`` writes rows that read back exactly as ORM-written rows do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import outbox
from storage.base import canonical_json
from storage.bulk import insert_rows
from storage.models import OutboxMessage

NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


def _outbox(services) -> dict[str, OutboxMessage]:
    with services.db.read() as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
        session.expunge_all()
    return {row.dedupe_key: row for row in rows}


def test_rows_and_constants_read_back_through_the_orm_with_their_types(services):
    with services.db.write() as session:
        added = insert_rows(
            session,
            OutboxMessage.__table__,
            ("dedupe_key", "kind", "payload", "rate_keys", "coalesce_key"),
            [("k1", "robot.oto", '{"a":"中文"}', "api:robot", None), ("k2", "robot.group", "{}", "", None)],
            constants={"state": "pending", "attempts": 0, "max_attempts": 3, "next_attempt_at": NOW, "created_at": NOW},
        )  # fmt: skip
    assert added == 2
    rows = _outbox(services)
    assert rows["k1"].payload == {"a": "中文"}
    assert rows["k1"].coalesce_key is None and rows["k2"].coalesce_key is None
    assert rows["k2"].next_attempt_at == NOW and rows["k2"].created_at.tzinfo is not None
    assert (rows["k1"].state, rows["k1"].attempts, rows["k1"].max_attempts) == ("pending", 0, 3)


def test_conflicting_rows_are_skipped_and_not_counted(services):
    pending = [outbox.Pending("robot.oto", f"key:{n}", {"n": n}) for n in range(5)]
    with services.db.write() as session:
        assert outbox.enqueue_many(session, pending[:3], now=NOW) == 3
    with services.db.write() as session:
        assert outbox.enqueue_many(session, pending, now=NOW + timedelta(hours=1)) == 2
    rows = _outbox(services)
    assert sorted(rows) == [f"key:{n}" for n in range(5)]
    assert rows["key:0"].created_at == NOW  # the first write stands
    assert rows["key:4"].created_at == NOW + timedelta(hours=1)


def test_bulk_rows_are_found_by_time_like_single_rows(services):
    """On SQLite times are text; the bulk path must write the same text form, or range
    queries would mix formats and miss rows."""
    with services.db.write() as session:
        outbox.enqueue(session, kind="robot.oto", dedupe_key="single", payload={}, now=NOW)
        outbox.enqueue_many(session, [outbox.Pending("robot.oto", "bulk", {})], now=NOW)
    with services.db.read() as session:
        found = session.execute(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.next_attempt_at >= NOW, OutboxMessage.next_attempt_at <= NOW
            )
        ).scalars()
        assert sorted(found) == ["bulk", "single"]


def test_nothing_to_insert_touches_nothing(services):
    with services.db.write() as session:
        assert insert_rows(session, OutboxMessage.__table__, ("dedupe_key",), []) == 0
    assert _outbox(services) == {}


def test_awkward_text_survives_the_trip_exactly(services):
    """Quotes, backslashes, braces, commas, NULL-like words and Chinese go in and come out as
    they were (on PostgreSQL the columns travel as array literals)."""
    awkward = ['a"b', "c\\d", "{e,f}", "NULL", "", " 空格 ", "中文，标点「」", "x\ny", '\\"{,}\\']
    rows = [(f"k{n}", "robot.oto", canonical_json({"t": text}), text, None) for n, text in enumerate(awkward)]
    with services.db.write() as session:
        added = insert_rows(
            session,
            OutboxMessage.__table__,
            ("dedupe_key", "kind", "payload", "rate_keys", "last_error"),
            rows,
            constants={"state": "pending", "attempts": 0, "max_attempts": 1, "next_attempt_at": NOW, "created_at": NOW},
        )  # fmt: skip
    assert added == len(awkward)
    stored = _outbox(services)
    for n, text in enumerate(awkward):
        row = stored[f"k{n}"]
        assert (row.rate_keys, row.payload, row.last_error) == (text, {"t": text}, None)
