"""Audit chains on PostgreSQL (``storage/chains.py``): each connection appends to a chain it holds
alone, knows that chain's head after each commit, and never forks or breaks it, whatever fails."""

from __future__ import annotations

import gc
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import select, text

from storage import chains, raw
from storage.audit import AuditEntry
from storage.models import AuditEvent
from storage.models.platform import AuditHead

NOW = datetime(2026, 12, 1, 1, 2, 3, tzinfo=UTC)
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(services):
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only: SQLite writers share the single chain 1")
    _end_leftover_chain_holders(services)
    return services


def _end_leftover_chain_holders(services) -> None:
    """These tests count chains from 1. A connection an earlier test left open (its engine not
    yet collected) still holds its chain, and so does, for a moment, the server process of a
    connection just closed: it leaves ``pg_stat_activity`` before it releases its locks (seen in
    a full run). A new connection here would take the next chain: such leftovers are collected,
    ended and waited for first."""
    gc.collect()
    services.db.engine.dispose()  # this test's own connections come after
    url = services.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        holders = (
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND pid <> pg_backend_pid()"
        )
        for (pid,) in connection.execute(holders, (chains.LOCK_CLASS,)).fetchall():
            connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while connection.execute(holders, (chains.LOCK_CLASS,)).fetchall() and time.monotonic() < deadline:
            time.sleep(0.05)


def _entry(n: int) -> AuditEntry:
    return AuditEntry(action="test.append", entity_type="t", entity_id=str(n), actor="system")


def _append(services, n: int) -> None:
    with services.db.direct(write=True) as handle:
        services.audit_log.append(handle, _entry(n), at=NOW)


def _events(services) -> list[tuple[int, int, str, str]]:
    with services.db.read() as session:
        rows = session.execute(
            select(AuditEvent.entity_id, AuditEvent.chain_id, AuditEvent.prev_hash, AuditEvent.hash).order_by(
                AuditEvent.id
            )
        )
        return [(int(entity), chain, prev, digest) for entity, chain, prev, digest in rows]


def _heads(services) -> dict[int, tuple[int, str]]:
    with services.db.read() as session:
        rows = session.execute(select(AuditHead.id, AuditHead.count, AuditHead.last_hash))
        return {chain: (count, last) for chain, count, last in rows}


def _verified(services) -> int:
    with services.db.read() as session:
        result = services.audit_log.verify(session)
    assert result.ok, result.reason
    return result.checked


def _delete_as_an_intruder(services, events_where: str, heads_where: str) -> None:
    """Delete audit rows past the append-only trigger, as someone with DDL rights could."""
    with services.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        try:
            connection.execute(text(f"DELETE FROM audit_event {events_where}"))
            connection.execute(text(f"DELETE FROM audit_head {heads_where}"))
        finally:
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def test_two_connections_writing_at_once_append_to_two_chains_that_both_verify(pg):
    with pg.db.direct(write=True) as one, pg.db.direct(write=True) as two:
        pg.audit_log.append(one, _entry(1), at=NOW)
        pg.audit_log.append(two, _entry(2), at=NOW)
        pg.audit_log.append(one, _entry(3), at=NOW)
    events = _events(pg)
    by_entity = {entity: (chain, prev, digest) for entity, chain, prev, digest in events}
    assert by_entity[1][0] == by_entity[3][0] != by_entity[2][0]
    assert by_entity[3][1] == by_entity[1][2]  # the third links to the first, on their chain
    assert by_entity[2][1] == chains.genesis(by_entity[2][0])
    assert sorted(count for count, _ in _heads(pg).values()) == [1, 2]
    assert _verified(pg) == 3


def test_an_append_on_a_chain_whose_head_is_known_waits_for_no_answer(pg):
    _append(pg, 1)
    with pg.db.direct(write=True) as handle:
        held = chains.held(handle.driver)
        assert held is not None and held.hash is not None  # known since the last commit
        pg.audit_log.append(handle, _entry(2), at=NOW)
        status = handle.driver.info.transaction_status
        assert status == psycopg.pq.TransactionStatus.IDLE  # not even BEGIN has gone out yet
    assert _verified(pg) == 2


def test_a_rolled_back_append_leaves_the_chain_where_the_last_commit_left_it(pg):
    _append(pg, 1)
    with pytest.raises(RuntimeError), pg.db.direct(write=True) as handle:
        pg.audit_log.append(handle, _entry(2), at=NOW)
        raw.first(handle, select(AuditHead.id))  # the event has reached the server
        raise RuntimeError("something after the append failed")
    _append(pg, 3)
    assert [entity for entity, *_ in _events(pg)] == [1, 3]
    assert _verified(pg) == 2


def test_a_wrong_head_on_the_client_fails_that_write_only_and_the_next_reads_the_head_again(pg):
    _append(pg, 1)
    with pytest.raises(psycopg.Error) as failed, pg.db.direct(write=True) as handle:
        held = chains.held(handle.driver)
        assert held is not None
        held.hash = "f" * 64  # a belief that is not the head (a bug, or a head moved behind us)
        pg.audit_log.append(handle, _entry(2), at=NOW)
    assert raw.missed(failed.value) and "audit_head" in str(failed.value)
    _append(pg, 3)
    assert [entity for entity, *_ in _events(pg)] == [1, 3]
    assert _verified(pg) == 2


def test_a_closed_connection_frees_its_chain_for_the_next_one(pg):
    _append(pg, 1)
    pg.db.dispose()  # the connection closes: its advisory lock ends
    _append(pg, 2)
    (first, second) = _events(pg)
    assert first[1] == second[1] and second[2] == first[3]
    assert len(_heads(pg)) == 1
    assert _verified(pg) == 2


def test_two_connections_opening_a_chain_at_once_end_with_one_chain_each(pg):
    """Both see no free chain and both try to open the same next id: the loser takes another."""
    url = pg.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    both_counted = threading.Barrier(2, timeout=10)

    class Racing:
        """A connection that waits for the other after its first look at the next id."""

        def __init__(self) -> None:
            self.connection = psycopg.connect(url, autocommit=True)
            self.waited = False

        def execute(self, sql: str, params: object = None) -> psycopg.Cursor:
            cursor = self.connection.execute(sql, params)
            if sql == chains._NEXT_ID and not self.waited:
                self.waited = True
                both_counted.wait()
            return cursor

    racers = [Racing(), Racing()]
    taken: list[int] = []
    errors: list[BaseException] = []

    def claim(racer: Racing) -> None:
        try:
            taken.append(chains.claim(racer).id)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    try:
        assert errors == [] and sorted(taken) == [1, 2]
        opened = racers[0].connection.execute("SELECT id FROM audit_head ORDER BY id").fetchall()
        assert opened == [(1,), (2,)]
    finally:
        for racer in racers:
            racer.connection.close()


def test_a_deleted_chain_is_reported_by_the_verification(pg):
    with pg.db.direct(write=True) as one, pg.db.direct(write=True) as two:
        pg.audit_log.append(one, _entry(1), at=NOW)
        pg.audit_log.append(two, _entry(2), at=NOW)
    assert _verified(pg) == 2
    _delete_as_an_intruder(pg, "WHERE chain_id = 1", "WHERE id = 1")
    with pg.db.read() as session:
        result = pg.audit_log.verify(session)
    assert not result.ok and "第 1 条链" in result.reason and "缺失" in result.reason


def test_audit_ids_are_given_in_commit_order_across_chains(pg):
    """The oversight projection reads events above a cursor: an event must never get a lower id
    than one that committed before it, whatever chain each is on."""
    url = pg.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    finished: list[BaseException | None] = []

    def second_writer() -> None:
        try:
            _append(pg, 2)
            finished.append(None)
        except BaseException as error:  # reported by the assertion below
            finished.append(error)

    with pg.db.direct(write=True) as first, psycopg.connect(url, autocommit=True) as watcher:
        pg.audit_log.append(first, _entry(1), at=NOW)
        raw.first(first, select(AuditHead.id))  # the event is on the server, the order lock held
        thread = threading.Thread(target=second_writer)
        thread.start()
        waiting = 0
        for _ in range(200):  # up to 10 s for the second writer to queue behind the first
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            ).fetchone()[0]
            if waiting or finished:
                break
            threading.Event().wait(0.05)
        assert waiting == 1 and finished == []
    thread.join(timeout=20)
    assert finished == [None]
    assert [entity for entity, *_ in _events(pg)] == [1, 2]
    assert _verified(pg) == 2


def test_a_chain_emptied_under_a_running_process_fails_one_write_then_another_chain_is_taken(pg):
    """A head that moved behind the connection's back (here: the audit tables emptied by hand)
    fails the write that relied on it, loudly; the next write reads the head, finds none and
    takes a chain again, and the log verifies."""
    _append(pg, 1)
    _delete_as_an_intruder(pg, "", "")
    with pytest.raises(psycopg.Error) as failed:
        _append(pg, 2)
    assert raw.missed(failed.value)
    _append(pg, 3)
    assert [entity for entity, *_ in _events(pg)] == [3]
    assert _verified(pg) == 1


def test_a_connection_killed_before_its_commit_loses_its_event_and_the_chain_goes_on(pg):
    """Fault: the server ends the session while the batch is being sent. The event is lost with
    its transaction, the chain is freed with the session, the next writer takes it over from the
    head the server holds, and the whole log verifies."""
    url = pg.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    _append(pg, 1)
    with (
        psycopg.connect(url, autocommit=True) as killer,
        pytest.raises(psycopg.OperationalError),
        pg.db.direct(write=True) as handle,
    ):
        pg.audit_log.append(handle, _entry(2), at=NOW)
        killer.execute("SELECT pg_terminate_backend(%s)", (handle.driver.info.backend_pid,))
    _append(pg, 3)
    _append(pg, 4)
    events = _events(pg)
    assert [entity for entity, *_ in events] == [1, 3, 4]
    assert len({chain for _, chain, *_ in events}) == 1  # the freed chain was taken over
    assert _verified(pg) == 3
