"""``storage.upsert.insert_ignore``: one row straight to the driver, as the ORM would have written it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import due
from storage.models import DueItem, InboxEvent
from storage.upsert import insert_ignore

NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


def _inbox(key: str, at: datetime) -> dict:
    return {"event_key": key, "kind": "robot", "received_at": at, "status_code": 200, "response_body": "{}"}


def test_the_first_row_is_inserted_and_a_second_with_the_same_key_is_skipped(services):
    with services.db.write() as session:
        assert insert_ignore(session, InboxEvent, _inbox("robot:m1", NOW), conflict_column="event_key")
    with services.db.write() as session:
        later = _inbox("robot:m1", NOW + timedelta(hours=1))
        assert not insert_ignore(session, InboxEvent, later, conflict_column="event_key")
    with services.db.read() as session:
        rows = session.execute(select(InboxEvent)).scalars().all()
        assert [(row.event_key, row.received_at) for row in rows] == [("robot:m1", NOW)]


def test_omitted_columns_get_the_models_python_defaults_and_values_read_back_typed(services):
    with services.db.write() as session:
        # payload (a callable default, ``dict``) and state (a scalar default) are left out.
        values = {"kind": "k", "ref": "r:1", "dedupe_key": "d1", "due_at": NOW}
        assert insert_ignore(session, DueItem, values, conflict_column="dedupe_key")
        assert due.schedule(
            session, kind="k", ref="r:2", due_at=NOW, dedupe_key="d2", payload={"名": [1, "二"]}
        )
    with services.db.read() as session:
        rows = {row.dedupe_key: row for row in session.execute(select(DueItem)).scalars()}
    assert (rows["d1"].payload, rows["d1"].state, rows["d1"].done_at) == ({}, "pending", None)
    assert rows["d2"].payload == {"名": [1, "二"]}
    assert rows["d1"].due_at == NOW and rows["d1"].due_at.tzinfo is not None


def test_a_row_inserted_here_is_found_by_time_like_an_orm_row(services):
    """On SQLite times are text: the driver path must write the ORM's text form."""
    with services.db.write() as session:
        insert_ignore(session, InboxEvent, _inbox("robot:direct", NOW), conflict_column="event_key")
        session.add(InboxEvent(**_inbox("robot:orm", NOW)))
    with services.db.read() as session:
        found = session.execute(select(InboxEvent.event_key).where(InboxEvent.received_at == NOW)).scalars()
        assert sorted(found) == ["robot:direct", "robot:orm"]


def test_a_naive_time_or_an_unknown_column_is_refused_and_nothing_is_written(services):
    with pytest.raises(ValueError, match="naive"), services.db.write() as session:
        insert_ignore(
            session, InboxEvent, _inbox("robot:naive", NOW.replace(tzinfo=None)), conflict_column="event_key"
        )
    with pytest.raises(KeyError, match="no_such_column"), services.db.write() as session:
        insert_ignore(
            session, InboxEvent, {**_inbox("robot:x", NOW), "no_such_column": 1}, conflict_column="event_key"
        )
    with services.db.read() as session:
        assert session.execute(select(InboxEvent)).scalars().all() == []
