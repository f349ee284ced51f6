"""Versioned directory changes: every change is a version; as_of reads the past from versions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.directory.service import DirectoryEditor
from storage import history
from storage.models.directory import DirectoryVersion, PowerItem
from storage.models.platform import AuditEvent, Unit


def _editor(session, services, now, reason="测试"):
    return DirectoryEditor.for_cli(
        session, services.audit_log, actor="cli", actor_person_id=None, now=now, reason=reason
    )


def test_create_update_deactivate_each_write_a_version_and_an_audit_event(services, clock):
    with services.db.write() as session:
        unit = _editor(session, services, clock.now()).create(
            Unit(name="测试处", short_name="测", kind="dept")
        )
        unit_id = unit.id
    clock.advance(days=1)
    with services.db.write() as session:
        unit = session.get(Unit, unit_id)
        assert _editor(session, services, clock.now()).update(unit, {"short_name": "测2"}, reason="改简称")
        assert not _editor(session, services, clock.now()).update(unit, {"short_name": "测2"})
    clock.advance(days=1)
    with services.db.write() as session:
        unit = session.get(Unit, unit_id)
        _editor(session, services, clock.now()).deactivate(unit, reason="机构调整")
    with services.db.read() as session:
        versions = history.versions(session, "unit", unit_id)
        actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
        unit = session.get(Unit, unit_id)
    assert [v.change for v in versions] == ["create", "update", "deactivate"]
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[1].reason == "改简称" and versions[2].reason == "机构调整"
    assert versions[1].before["short_name"] == "测" and versions[1].after["short_name"] == "测2"
    assert actions == ["unit.create", "unit.update", "unit.deactivate"]
    assert unit is not None and unit.active is False  # deactivated, not deleted


def test_as_of_returns_the_version_in_force_at_the_time(services, clock):
    start = clock.now()
    with services.db.write() as session:
        owner = _editor(session, services, start).create(Unit(name="甲处", short_name="甲", kind="dept"))
        item = _editor(session, services, start).create(
            PowerItem(code="T-1", name="旧名称", legal_basis="某条例", owner_unit_id=owner.id)
        )
        item_id = item.id
    later = start + timedelta(days=10)
    with services.db.write() as session:
        _editor(session, services, later).update(session.get(PowerItem, item_id), {"name": "新名称"})
    with services.db.read() as session:
        assert history.as_of(session, "item", item_id, start - timedelta(seconds=1)) is None
        assert history.as_of(session, "item", item_id, start)["name"] == "旧名称"
        assert history.as_of(session, "item", item_id, later - timedelta(seconds=1))["name"] == "旧名称"
        assert history.as_of(session, "item", item_id, later)["name"] == "新名称"
        many = history.as_of_many(session, "item", start + timedelta(days=1))
        assert many == {item_id: history.as_of(session, "item", item_id, start)}


def test_record_many_numbers_versions_after_the_newest(services, clock):
    with services.db.write() as session:
        history.record(session, "object", 7, "create", {}, {"name": "a"}, "cli", "t", clock.now())
        history.record_many(
            session,
            [
                history.VersionEntry("object", 7, "update", {"name": "a"}, {"name": "b"}),
                history.VersionEntry("object", 8, "create", {}, {"name": "c"}, 1),
                history.VersionEntry("object", 7, "update", {"name": "b"}, {"name": "c"}),
            ],
            changed_by="cli",
            reason="批量",
            at=clock.now(),
        )
    with services.db.read() as session:
        rows = session.execute(
            select(DirectoryVersion.entity_id, DirectoryVersion.version).order_by(DirectoryVersion.id)
        ).all()
        total = session.execute(select(func.count()).select_from(DirectoryVersion)).scalar_one()
    assert [tuple(r) for r in rows] == [(7, 1), (7, 2), (8, 1), (7, 3)]
    assert total == 4
