"""A task with one reviewed record holding a 不合格 item (a rectification "ordered"), reached
through the service layer and the mobile form's submit endpoint (no workspace: fast)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.context import TickContext
from handlers.calendar.cli import run_import
from handlers.draw import dispatch, service
from handlers.results import links
from handlers.results import service as results
from storage.models import (
    ROLE_SYSADMIN,
    AssignmentMember,
    InspectionRecord,
    Inspector,
    Person,
    Rectification,
)
from tests.draw.conftest import draw_world, make_task
from tests.helpers import make_person
from tests.results.conftest import answers, run_worker

_events = itertools.count(1)
# A made-up December for the tests: two holidays (Mon 14th, Tue 15th) and a make-up Saturday
# (12th), so "3 working days before Fri 18th" is Sat 12th, not Tue 15th.
TEST_CALENDAR = (
    "日期,类型,说明\n2026-12-12,调休上班,测试调休\n2026-12-14,放假,测试假日\n2026-12-15,放假,测试假日\n"
)


@dataclass
class Flow:
    task: int
    record: int
    rect: int
    people: list[int]  # person ids of the accepted team
    inspectors: list[int]
    staff: list[str]
    lead_admin: int
    leader: int


def ctx(services, session, person_id: int | None = None, staff: str | None = None) -> TickContext:
    return TickContext(
        session=session,
        now=services.clock.now(),
        settings=services.settings,
        audit_log=services.audit_log,
        person=session.get(Person, person_id) if person_id else None,
        staff_id=staff,
        event_key=f"test:f{next(_events)}",
    )


def import_calendar(services, tmp_path: Path, text: str = TEST_CALENDAR) -> None:
    with services.db.write() as session:
        make_person(session, "系统管理员", "sysadmin", now=services.clock.now(), roles=(ROLE_SYSADMIN,))
    path = tmp_path / "calendar.csv"
    path.write_text(text, encoding="utf-8")
    code, report = run_import(
        services.settings, services.db, services.audit_log, services.clock.now(), path, "sysadmin"
    )
    assert code == 0, report


def build_flow(services, clock, client, world, *, review: bool = True, count: int = 4, **values) -> Flow:
    with services.db.write() as session:
        task = make_task(session, world, clock.now(), count=count)
        service.draw_task(ctx(services, session), task, seed="seed-1")
        dispatch.dispatch_task(ctx(services, session, world.lead_admin_person), task)
        task_id = task.id
    with services.db.write() as session:
        members = list(session.execute(select(AssignmentMember).order_by(AssignmentMember.id)).scalars())
        first = members[0].assignment_id
        mine = [m for m in members if m.assignment_id == first]
        people = []
        for member in mine:
            person = session.get(Inspector, member.inspector_id).person_id
            dispatch.accept(ctx(services, session, person), member.id)
            people.append(person)
        record = session.execute(
            select(InspectionRecord).where(InspectionRecord.assignment_id == first)
        ).scalar_one()
        inspectors = [m.inspector_id for m in mine]
        from storage.identity import staff_ids_of

        staff_map = staff_ids_of(session, people, corp_id=services.settings.corp_id)
        staff = [staff_map[p] for p in people]
    clock.set(datetime(2026, 12, 3, 3, 0, tzinfo=UTC))
    token = links.sign(services.settings, record.id, people[0], clock.now())
    body = {"submission_id": "s" * 32, "deprecated_id": "", "draft_version": "", "values": answers(**values)}
    response = client.post(f"/form/{token}/submit", json=body)
    assert response.status_code == 200, response.json
    run_worker(services)  # the version's job: findings, the order and its rectification
    if review:
        with services.db.write() as session:
            c = ctx(services, session, world.lead_admin_person, "lead-admin")
            loaded = results.lock(c, record.id)
            results.review(c, loaded, approve=True, reason="", seen=str(loaded.record.version))
    with services.db.read() as session:
        rect = session.execute(select(Rectification).where(Rectification.record_id == record.id)).scalar_one()
    return Flow(
        task_id, record.id, rect.id, people, inspectors, staff, world.lead_admin_person, world.approver_person
    )


@pytest.fixture
def flow(services, clock, client, draw_world) -> Flow:
    return build_flow(services, clock, client, draw_world)


__all__ = ["draw_world"]
