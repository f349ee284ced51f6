"""``storage.raw`` (Core statements on the driver) and ``Database.direct`` (a transaction without an
ORM session), and the PostgreSQL read transaction that keeps prepared statements."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text, update

from storage import raw
from storage.audit import AuditEntry, AuditLog
from storage.models import AuditEvent, DueItem
from storage.models.platform import AuditHead

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


@pytest.mark.postgres
def test_two_first_audit_appends_racing_for_a_head_that_does_not_exist_both_land_in_one_chain(
    services, monkeypatch
):
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite writers never run at the same time")
    import storage.audit as audit

    both_looked = threading.Barrier(2, timeout=10)
    original = raw.first

    def first(session, statement, params=None):
        found = original(session, statement, params)
        if statement is audit._LOCK_HEAD and found is None:
            both_looked.wait()  # each saw no head: both go on to create it
        return found

    monkeypatch.setattr(audit.raw, "first", first)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with services.db.write() as session:
                services.audit_log.append(
                    session, AuditEntry(action="a", entity_type="t", entity_id=str(n), actor="system"), at=NOW
                )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    with services.db.read() as session:
        assert session.execute(select(AuditHead.count)).scalar_one() == 2
        assert len(session.execute(select(AuditEvent.id)).all()) == 2
        assert services.audit_log.verify(session).ok


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
