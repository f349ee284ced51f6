"""``storage.raw`` (Core statements on the driver) and ``Database.direct`` (a transaction without an
ORM session), and the PostgreSQL read transaction that keeps prepared statements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update

from storage import raw
from storage.audit import AuditEntry, AuditLog
from storage.models import DueItem

NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)
_D = DueItem.__table__.c
_INSERT_PLAIN = insert(DueItem.__table__).values(
    kind=bindparam("kind", type_=_D.kind.type),
    ref="r:1",
    dedupe_key=bindparam("key", type_=_D.dedupe_key.type),
    due_at=bindparam("due_at", type_=_D.due_at.type),
    payload=bindparam("payload", type_=_D.payload.type),
    state="pending",
)
_INSERT = _INSERT_PLAIN.returning(_D.id)
_DONE = update(DueItem.__table__).where(_D.dedupe_key == bindparam("key")).values(state="done")
_READ = select(_D.payload, _D.due_at, _D.state).where(_D.dedupe_key == bindparam("key"))


def test_values_go_through_the_column_types_both_ways_as_the_orm_writes_and_reads_them(services):
    with services.db.write() as session:
        inserted = raw.first(
            session, _INSERT, {"kind": "k", "key": "d1", "due_at": NOW, "payload": {"名": [1]}}
        )
        assert inserted is not None and inserted[0] > 0
        assert raw.fetch(session, _READ, {"key": "d1"}) == [({"名": [1]}, NOW, "pending")]
    with services.db.read() as session:
        row = session.execute(select(DueItem).where(DueItem.dedupe_key == "d1")).scalar_one()
        assert (row.payload, row.due_at, row.ref) == ({"名": [1]}, NOW, "r:1")


def test_a_raw_read_sees_orm_changes_not_yet_flushed(services):
    with services.db.write() as session:
        session.add(DueItem(kind="k", ref="r:2", dedupe_key="d2", due_at=NOW, payload={}, state="pending"))
        assert raw.fetch(session, _READ, {"key": "d2"}) == [({}, NOW, "pending")]


def test_statements_whose_text_depends_on_the_values_and_missing_values_are_refused(services):
    with services.db.read() as session:
        with pytest.raises(ValueError, match="expanding"):
            raw.fetch(session, select(_D.id).where(_D.state.in_(["pending", "done"])))
        with pytest.raises(KeyError, match="key"):
            raw.fetch(session, _READ, {})


def test_a_direct_transaction_commits_on_success_and_rolls_back_on_an_error(services):
    with services.db.direct(write=True) as handle:
        raw.first(handle, _INSERT, {"kind": "k", "key": "kept", "due_at": NOW, "payload": {}})
    with pytest.raises(RuntimeError), services.db.direct(write=True) as handle:
        raw.first(handle, _INSERT, {"kind": "k", "key": "lost", "due_at": NOW, "payload": {}})
        raise RuntimeError("something after the write failed")
    with services.db.direct(write=False) as handle:
        keys = raw.fetch(handle, select(_D.dedupe_key).order_by(_D.id))
    assert keys == [("kept",)]


def test_a_direct_transaction_appends_to_the_audit_chain_like_a_session(services):
    log: AuditLog = services.audit_log
    entry = AuditEntry(action="a", entity_type="t", entity_id="1", actor="system")
    with services.db.direct(write=True) as handle:
        log.append(handle, entry, at=NOW)  # type: ignore[arg-type]
    with services.db.write() as session:
        log.append(session, entry, at=NOW)
    with services.db.read() as session:
        result = log.verify(session)
        assert result.ok and result.checked == 2


@pytest.mark.postgres
def test_a_read_on_postgresql_is_read_only_and_keeps_its_prepared_statements(services):
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: the ROLLBACK that drops psycopg's prepared statements")
    with services.db.read() as session:
        for _ in range(6):  # psycopg prepares a statement on its fifth execution
            session.execute(text("SELECT count(*) FROM due_item"))
        driver = session.connection().connection.driver_connection
    prepared = driver.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
    driver.commit()
    assert prepared >= 1
    with pytest.raises(Exception, match="read-only"), services.db.read() as session:
        session.execute(text("DELETE FROM due_item"))


def test_sent_writes_are_stored_and_their_returned_rows_read_on_either_database(services):
    with services.db.direct(write=True) as handle:
        sent = raw.send(handle, _INSERT, {"kind": "k", "key": "s1", "due_at": NOW, "payload": {"a": 1}})
        raw.send(handle, _INSERT_PLAIN, {"kind": "k", "key": "s2", "due_at": NOW, "payload": {}})
        assert raw.run(handle, _DONE, {"key": "s1"}) == 1  # counts what was sent before it
        inserted = sent.first()
        assert inserted is not None and inserted[0] > 0
    with services.db.read() as session:
        rows = session.execute(select(DueItem.dedupe_key, DueItem.state).order_by(DueItem.id)).all()
    assert rows == [("s1", "done"), ("s2", "pending")]


def test_an_error_of_a_sent_write_is_raised_by_the_next_read_and_nothing_of_the_transaction_is_kept(services):
    from storage.upsert import insert_ignore

    with services.db.direct(write=True) as handle:
        raw.first(handle, _INSERT, {"kind": "k", "key": "taken", "due_at": NOW, "payload": {}})
    refused = services.db.engine.dialect.loaded_dbapi.IntegrityError
    with pytest.raises(refused), services.db.direct(write=True) as handle:
        values = {"kind": "k", "key": "new", "due_at": NOW, "payload": {}}
        raw.send(handle, _INSERT, values)
        raw.send(handle, _INSERT, {**values, "key": "taken"})  # the unique key refuses it
        raw.fetch(handle, _READ, {"key": "new"})
    with services.db.direct(write=True) as handle:
        # insert_ignore tells an inserted row from a skipped one also in pipeline mode
        row = {
            "kind": "k",
            "ref": "r",
            "dedupe_key": "taken",
            "due_at": NOW,
            "payload": {},
            "state": "pending",
        }
        skipped = insert_ignore(handle, DueItem, row, conflict_column="dedupe_key")
        inserted = insert_ignore(
            handle, DueItem, {**row, "dedupe_key": "fresh"}, conflict_column="dedupe_key"
        )
    assert (skipped, inserted) == (False, True)
    with services.db.read() as session:
        keys = session.execute(select(DueItem.dedupe_key).order_by(DueItem.id)).scalars().all()
    assert keys == ["taken", "fresh"]


@pytest.mark.postgres
def test_a_postgresql_direct_write_keeps_its_writes_until_an_answer_is_needed_and_commits_with_the_last(
    services,
):
    """``raw.Batch``: a plain read before the first write opens no transaction, sent writes stay
    on the client until a statement must be answered, and the kept ones go with the COMMIT."""
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite has no round trips to save")
    with services.db.direct(write=True) as handle:
        connection = handle.driver
        idle = connection.info.transaction_status.IDLE
        assert raw.fetch(handle, _READ, {"key": "p0"}) == []
        assert connection.info.transaction_status == idle  # no BEGIN for a plain read
        for n in range(3):
            raw.send(handle, _INSERT_PLAIN, {"kind": "k", "key": f"p{n}", "due_at": NOW, "payload": {}})
        assert connection.info.transaction_status == idle  # kept, nothing sent yet
        assert raw.run(handle, _DONE, {"key": "p1"}) == 1  # goes with BEGIN and the kept writes
        assert connection.info.transaction_status != idle
        raw.send(handle, _INSERT_PLAIN, {"kind": "k", "key": "p3", "due_at": NOW, "payload": {}})
    assert connection.info.transaction_status == idle
    with services.db.read() as session:
        rows = session.execute(select(DueItem.dedupe_key, DueItem.state).order_by(DueItem.id)).all()
    assert rows == [("p0", "pending"), ("p1", "done"), ("p2", "pending"), ("p3", "pending")]


def test_values_a_batch_writes_as_literals_come_back_unchanged(services):
    """Kept statements carry their values as SQL literals (client-side binding): quotes,
    backslashes, percent signs, placeholders, NUL-free control characters and Chinese must
    survive, and none of them may end or change the statement."""
    tricky = {
        "q": "O'Brien''s \\ \\' 100% %s %(key)s $1 ; DROP TABLE due_item; --",
        "zh": "不合格：现场发现“无证经营”\n第二行\t制表",
        "none": None,
        "n": [1, 2.5, -3, True],
    }
    with services.db.direct(write=True) as handle:
        raw.send(handle, _INSERT_PLAIN, {"kind": "k'", "key": "lit'1", "due_at": NOW, "payload": tricky})
        sent = raw.send(handle, _INSERT, {"kind": "k", "key": "lit2", "due_at": NOW, "payload": {"s": "%%"}})
        assert sent.first() is not None
    with services.db.read() as session:
        assert raw.fetch(session, _READ, {"key": "lit'1"}) == [(tricky, NOW, "pending")]
        assert raw.fetch(session, _READ, {"key": "lit2"}) == [({"s": "%%"}, NOW, "pending")]
        assert session.execute(select(DueItem.kind).where(DueItem.dedupe_key == "lit'1")).scalar_one() == "k'"


_CLAIM = (
    update(DueItem.__table__)
    .where(_D.dedupe_key == bindparam("key"), _D.state == "pending")
    .values(state="done")
    .returning(_D.id)
)
_CLAIM_CHECKED = raw.expecting_one(_CLAIM, "due_item")


def test_a_guarded_write_that_touches_no_row_stores_nothing_on_either_database(services):
    with services.db.direct(write=True) as handle:
        raw.send(handle, _INSERT_PLAIN, {"kind": "k", "key": "g1", "due_at": NOW, "payload": {}})
    params = {"key": "g1"}
    with services.db.direct(write=True) as handle:
        hit = raw.send_expecting_one(handle, _CLAIM, _CLAIM_CHECKED, params)
        assert hit is None or hit.first() is not None
    missed: list[BaseException] = []
    try:
        with services.db.direct(write=True) as handle:
            raw.send(handle, _INSERT_PLAIN, {"kind": "k", "key": "g2", "due_at": NOW, "payload": {}})
            miss = raw.send_expecting_one(handle, _CLAIM, _CLAIM_CHECKED, params)  # already done
            if miss is not None and miss.first() is None:  # SQLite: the caller decides
                raise RuntimeError("missed")
    except Exception as error:
        missed.append(error)
    assert len(missed) == 1
    assert raw.missed(missed[0]) == services.db.is_postgres
    assert services.db.is_postgres or str(missed[0]) == "missed"
    with services.db.direct(write=False) as handle:
        assert raw.fetch(handle, select(_D.dedupe_key, _D.state).order_by(_D.id)) == [("g1", "done")]
