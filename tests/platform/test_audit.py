"""The audit chain detects edits, deletions and a truncated tail; the table refuses updates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from chayici.cli import main
from storage.audit import AuditEntry
from storage.models import AuditEvent
from storage.models.platform import AuditHead


def _append(services, clock, n: int = 5) -> None:
    with services.db.write() as session:
        for i in range(n):
            services.audit_log.append(
                session,
                AuditEntry(
                    action="task.create",
                    entity_type="task",
                    entity_id=str(i),
                    actor="person:1",
                    after={"n": i, "名称": "测试"},
                ),
                at=clock.now() + timedelta(seconds=i),
            )


def _disable_guard(services) -> None:
    """Simulate an attacker with DDL rights: drop the append-only guard first."""
    with services.db.engine.begin() as connection:
        if services.db.is_postgres:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))


@pytest.fixture(autouse=True)
def _restore_guard(services):
    """PostgreSQL keeps one database for the session: put the guard back after each test."""
    yield
    if services.db.is_postgres:
        with services.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def _verify(services):
    with services.db.read() as session:
        return services.audit_log.verify(session)


def test_intact_chain_verifies(services, clock):
    _append(services, clock)
    result = _verify(services)
    assert result.ok and result.checked == 5


def test_update_of_an_audit_row_is_refused_by_the_database(services, clock):
    _append(services, clock, 1)
    with pytest.raises(DBAPIError), services.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'someone-else'"))


def test_edited_body_is_detected_at_that_row(services, clock):
    _append(services, clock)
    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET body = replace(body, '测试', '篡改') WHERE id = 3"))
    result = _verify(services)
    assert not result.ok
    assert result.broken_id == 3
    assert "修改" in result.reason


def test_edited_query_column_is_detected(services, clock):
    _append(services, clock)
    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'person:99' WHERE id = 2"))
    result = _verify(services)
    assert (result.ok, result.broken_id) == (False, 2)


def test_deleted_middle_row_is_detected(services, clock):
    _append(services, clock)
    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 3"))
    result = _verify(services)
    assert (result.ok, result.broken_id) == (False, 4)


def test_deleted_last_row_is_detected_through_the_head(services, clock):
    _append(services, clock)
    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 5"))
    result = _verify(services)
    assert not result.ok
    assert "删除" in result.reason


def test_chain_made_with_another_key_does_not_verify(services, clock):
    from storage.audit import AuditLog

    _append(services, clock)
    with services.db.read() as session:
        assert not AuditLog(b"another-key").verify(session).ok


def test_cli_audit_verify_reports_the_first_broken_row(services, clock, monkeypatch, capsys):
    _append(services, clock)
    monkeypatch.setenv("CHAYICI_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("CHAYICI_AUDIT_KEY", services.settings.audit_key.get_secret_value())
    assert main(["audit", "verify"]) == 0
    printed = capsys.readouterr().out
    with services.db.read() as session:
        heads = session.execute(select(AuditHead.id, AuditHead.count, AuditHead.last_hash)).all()
    assert "完整" in printed and sum(count for _, count, _ in heads) == 5
    for chain_id, count, last_hash in heads:  # every chain's head, to be kept outside the database
        assert f"第 {chain_id} 条链：{count} 条记录，链尾哈希 {last_hash}" in printed
    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET body = replace(body, '测试', '改过') WHERE id = 4"))
    assert main(["audit", "verify"]) == 1
    assert "第 4 号" in capsys.readouterr().out


def test_bulk_append_keeps_one_verifiable_chain_and_stores_rows_as_single_appends_do(services, clock):
    """``append_many`` (straight to the driver: executemany on SQLite, one unnest INSERT on
    PostgreSQL) continues the chain after single appends and the whole chain still verifies; its
    rows read back with the time given and are found by time range like any other; a bulk row
    edited afterwards is found."""
    _append(services, clock, n=3)
    count = 225
    at = clock.now() + timedelta(minutes=1)
    with services.db.write() as session:
        added = services.audit_log.append_many(
            session,
            [
                AuditEntry(
                    action="rectification.due_soon",
                    entity_type="rectification",
                    entity_id=str(i),
                    actor="system",
                    after={"state": "due_soon", "说明": "临期"},
                )
                for i in range(count)
            ],
            at=at,
        )
    assert added == count
    with services.db.read() as session:
        bulk = (
            session.execute(select(AuditEvent).where(AuditEvent.at >= at).order_by(AuditEvent.id))
            .scalars()
            .all()
        )
        assert len(bulk) == count
        assert {event.at for event in bulk} == {at}
        assert bulk[7].entity_id == "7" and bulk[7].actor == "system"
    _append(services, clock, n=2)
    result = _verify(services)
    assert result.ok and result.checked == 3 + count + 2

    _disable_guard(services)
    with services.db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_event SET body = replace(body, '临期', '已改') "
                "WHERE entity_type = 'rectification' AND entity_id = '7'"
            )
        )
    broken = _verify(services)
    assert not broken.ok
