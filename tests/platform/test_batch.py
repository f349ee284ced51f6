"""``storage.batch``: the literals it writes for kept statements, and preparing each statement
shape once per connection. PostgreSQL only (SQLite writes run statement by statement)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, insert, select

from storage import batch, raw
from storage.db import Database
from storage.models import DueItem

_D = DueItem.__table__.c
_INSERT = insert(DueItem.__table__).values(
    kind="k",
    ref=bindparam("ref", type_=_D.ref.type),
    dedupe_key=bindparam("key", type_=_D.dedupe_key.type),
    due_at=bindparam("due_at", type_=_D.due_at.type),
    payload={},
    state="pending",
)
NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture
def connection(pg_ready):
    database = Database(pg_ready)
    pooled = database.engine.raw_connection()
    try:
        yield pooled.driver_connection
    finally:
        pooled.close()
        database.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("value", "cast"),
    [
        ("O'Brien '' \\ \\' %s %(x)s $1 ; --", "text"),
        ("不合格：现场发现“无证经营”\n\t🙂", "text"),
        ("", "text"),
        (None, "text"),
        (True, "boolean"),
        (False, "boolean"),
        (-(2**62), "bigint"),
        (Decimal("12.3400"), "numeric"),
        (0.1, "double precision"),
        (1e16, "double precision"),
        (1e-7, "double precision"),
        (float("inf"), "double precision"),
        (date(2026, 2, 28), "date"),
        (NOW, "timestamptz"),
        (datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))), "timestamptz"),
        (datetime(2026, 12, 1, 9, 0, 0, 1), "timestamp"),
        (b"\x00\xff'\\", "bytea"),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), "uuid"),  # quoted by psycopg
    ],
)
def test_a_value_written_as_a_literal_reads_back_as_the_same_value(connection, value, cast):
    written = batch.Batch(connection)._literal(value)
    assert connection.execute(f"SELECT ({written})::{cast}").fetchone()[0] == value


def test_text_with_a_nul_character_is_refused_before_anything_is_sent():
    with pytest.raises(ValueError, match="NUL"):
        batch.literal("a\x00b")


@pytest.mark.postgres
def test_each_statement_shape_is_prepared_once_per_connection_and_reused_by_later_transactions(pg_ready):
    database = Database(pg_ready)
    try:
        for n in range(3):  # one pooled connection: each transaction finds the shape prepared
            with database.direct(write=True) as handle:
                raw.send(handle, _INSERT, {"ref": f"r{n}", "key": f"k{n}", "due_at": NOW})
                prepared = handle.driver.execute(
                    "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'chy\\_%'"
                ).fetchone()[0]
                assert prepared == 1
        with database.read() as session:
            keys = session.execute(select(DueItem.dedupe_key).order_by(DueItem.id)).scalars().all()
        assert keys == ["k0", "k1", "k2"]
    finally:
        with database.write() as session:
            session.query(DueItem).delete()
        database.dispose()


@pytest.mark.postgres
def test_a_connection_that_would_read_backslashes_as_escapes_is_refused_and_returned_as_lent(pg_ready):
    """With ``standard_conforming_strings`` off a backslash in a literal would start an escape:
    no batch is made on such a connection, and it goes back to the pool out of autocommit."""
    database = Database(pg_ready)
    try:
        pooled = database.engine.raw_connection()
        pooled.driver_connection.execute("SET standard_conforming_strings = off")
        pooled.driver_connection.commit()
        pooled.close()
        with pytest.raises(RuntimeError, match="standard_conforming_strings"), database.direct(write=True):
            pass
        again = database.engine.raw_connection()
        assert again.driver_connection.autocommit is False
        again.close()
    finally:
        database.dispose()
