"""A hand-made world for oversight tests: units, tasks, records, rectifications as rows, and the
audit events the capabilities write, appended with chosen times in the shapes the real code uses
(task snapshots with ``units``/``theme_id``/``window_end``/``prenotice``, dispatch
``assignments``, follow-up and publication ``detail`` with ``unit_id`` and ``task_id``).

Times are given in Beijing time (``bj(12, 1, 10)`` = 1 December 2026, 10:00).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.directory.service import DirectoryEditor
from storage.audit import AuditEntry, AuditLog
from storage.models import (
    Assignment,
    AssignmentMember,
    Document,
    DrawRecord,
    Finding,
    InspectionObject,
    InspectionRecord,
    Inspector,
    PowerItem,
    PreNotice,
    RecordVersion,
    Rectification,
    Scenario,
    Theme,
)
from storage.models.tasks import Task
from tests.helpers import make_person, make_unit

BJ = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def bj(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BJ).astimezone(UTC)


@dataclass
class World:
    session: Session
    audit_log: AuditLog
    bureau: int = 0
    units: dict[str, int] = field(default_factory=dict)
    inspectors: dict[str, int] = field(default_factory=dict)  # unit key -> inspector id
    scenario: int = 0
    item: int = 0
    person: int = 0

    # -- rows ---------------------------------------------------------------------------------
    def obj(self, name: str) -> int:
        row = InspectionObject(name=name, address=f"莲都区{name}路1号", updated_at=bj(1, 1))
        self.session.add(row)
        self.session.flush()
        return row.id

    def task(self, lead: str, *, window_end: date, theme: int | None = None, created: datetime) -> Task:
        n = next(_seq)
        task = Task(
            number=f"丽综执联查〔2026〕{n}号",
            year=2026,
            seq=n,
            scenario_id=self.scenario,
            theme_id=theme,
            lead_unit_id=self.units[lead],
            source="plan",
            method="on_site",
            window_start=window_end,
            window_end=window_end,
            state="draft",
            created_by_person_id=self.person,
            created_at=created,
            updated_at=created,
        )
        self.session.add(task)
        self.session.flush()
        draw = DrawRecord(
            task_id=task.id,
            kind="full",
            algorithm_version=1,
            seed="test",
            pool_size=1,
            inspector_pool_size=1,
            pool_hash="0" * 64,
            snapshot=b"",
            result={},
            operator="test",
            drawn_at=created,
        )
        self.session.add(draw)
        self.session.flush()
        task._draw_id = draw.id  # type: ignore[attr-defined]
        return task

    def assignment(self, task: Task, object_id: int, slot: int) -> Assignment:
        row = Assignment(
            task_id=task.id,
            slot=slot,
            object_id=object_id,
            planned_day=task.window_end,
            draw_id=task._draw_id,  # type: ignore[attr-defined]
            state="dispatched",
            created_at=task.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def member(self, assignment: Assignment, unit: str, dispatched: datetime) -> AssignmentMember:
        row = AssignmentMember(
            assignment_id=assignment.id,
            inspector_id=self.inspectors[unit],
            unit_id=self.units[unit],
            position=next(_seq),
            state="pending",
            draw_id=assignment.draw_id,
            dispatched_at=dispatched,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def record(self, task: Task, assignment: Assignment) -> InspectionRecord:
        row = InspectionRecord(
            task_id=task.id,
            assignment_id=assignment.id,
            object_id=assignment.object_id,
            state="submitted",
            items=[],
            draft={},
            created_at=task.created_at,
            updated_at=task.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def notice(self, task: Task, assignment: Assignment) -> PreNotice:
        row = PreNotice(
            task_id=task.id,
            object_id=assignment.object_id,
            assignment_id=assignment.id,
            mode="send",
            state="issued",
            created_at=task.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def rectification(
        self, record: InspectionRecord, *, deadline: date, unit: str, mode: str = "deadline"
    ) -> Rectification:
        n = next(_seq)
        version = self._version(record)
        if version is None:
            version = RecordVersion(
                record_id=record.id,
                version=1,
                instance_id=f"sub-{n}",
                content={},
                content_hash="0" * 64,
                evidence=[],
                via="card",
                current=True,
                submitted_by_person_id=self.person,
                submitted_at=record.created_at,
            )
            self.session.add(version)
            self.session.flush()
        finding = Finding(
            record_id=record.id,
            version_id=version.id,
            task_id=record.task_id,
            object_id=record.object_id,
            power_item_id=self.item,
            item_name="门前三包责任落实检查",
            facts="门前堆放杂物",
            provision="第十八条",
            order_basis="第四十六条",
            created_at=record.created_at,
        )
        self.session.add(finding)
        document = Document(
            kind="rectify_order",
            code="责改",
            issuer="丽综执",
            issuer_unit_id=self.units["A"],
            year=2026,
            seq=n,
            number=f"丽综执责改〔2026〕{n}号",
            task_id=record.task_id,
            object_id=record.object_id,
            fields={},
            issued_at=record.created_at,
            issued_by="test",
        )
        self.session.add(document)
        self.session.flush()
        rect = Rectification(
            finding_id=finding.id,
            record_id=record.id,
            task_id=record.task_id,
            object_id=record.object_id,
            order_doc_id=document.id,
            mode=mode,
            deadline=datetime.combine(deadline, datetime.max.time(), tzinfo=BJ).astimezone(UTC),
            deadline_day=deadline,
            requirements="清理杂物",
            min_days=3,
            state="ordered",
            created_at=record.created_at,
            updated_at=record.created_at,
        )
        if hasattr(Rectification, "unit_id"):
            rect.unit_id = self.units[unit]
        self.session.add(rect)
        self.session.flush()
        return rect

    def _version(self, record: InspectionRecord) -> RecordVersion | None:
        from sqlalchemy import select

        return self.session.execute(
            select(RecordVersion).where(RecordVersion.record_id == record.id)
        ).scalar_one_or_none()

    def theme(self, name: str, *, unit: str | None, deadline: date, minimum: int = 1, at: datetime) -> int:
        editor = DirectoryEditor(self.session, actor="test", now=at, audit=None, reason="测试")
        theme = editor.create(
            Theme(
                name=name,
                level="local",
                deadline=deadline,
                min_joint_inspections=minimum,
                status="open",
                active=True,
            )
        )
        if unit is not None:
            editor.update(
                theme,
                {"claimed_by_unit_id": self.units[unit], "claimed_at": at, "status": "claimed"},
                action="theme.claim",
            )
        return int(theme.id)

    # -- events -------------------------------------------------------------------------------
    def event(self, action: str, entity_type: str, entity_id: Any, at: datetime, **parts: Any) -> None:
        self.audit_log.append(
            self.session,
            AuditEntry(
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                actor="test",
                before=parts.get("before"),
                after=parts.get("after"),
                detail=parts.get("detail"),
            ),
            at=at,
        )

    def snapshot(self, task: Task, units: dict[str, str], *, prenotice: str = "send") -> dict[str, Any]:
        return {
            "number": task.number,
            "state": task.state,
            "theme_id": task.theme_id,
            "window_end": task.window_end.isoformat(),
            "prenotice": prenotice,
            "units": {str(self.units[key]): state for key, state in units.items()},
        }

    def create(self, task: Task, at: datetime, units: dict[str, str] | None = None) -> None:
        self.event("task.create", "task", task.id, at, after=self.snapshot(task, units or {}))

    def dispatch(
        self,
        task: Task,
        at: datetime,
        units: dict[str, str],
        assignments: list[Assignment],
        *,
        prenotice: str = "send",
    ) -> None:
        self.event(
            "task.dispatch",
            "task",
            task.id,
            at,
            after=self.snapshot(task, units, prenotice=prenotice),
            detail={"assignments": [[a.id, a.object_id, []] for a in assignments], "unreachable": []},
        )

    def review(self, task: Task, at: datetime, units: dict[str, str]) -> None:
        self.event("task.review", "task", task.id, at, after=self.snapshot(task, units))

    def accept(self, member: AssignmentMember, task: Task, at: datetime) -> None:
        self.event("dispatch.accept", "assignment_member", member.id, at, detail={"task_id": task.id})

    def submit(self, record: InspectionRecord, at: datetime) -> None:
        self.event(
            "record.submit", "inspection_record", record.id, at, after={"state": "submitted", "version": 1}
        )

    def served(self, notice: PreNotice, at: datetime) -> None:
        self.event("prenotice.served", "pre_notice", notice.id, at, after={"channel": "电子送达"})

    def order(self, rect: Rectification, at: datetime) -> None:
        self.event(
            "rectification.order",
            "rectification",
            rect.id,
            at,
            after={"state": "ordered", "mode": rect.mode, "deadline": rect.deadline_day.isoformat()},
        )

    def followup(self, action: str, rect: Rectification, unit: str, at: datetime, **extra: Any) -> None:
        self.event(
            action,
            "rectification",
            rect.id,
            at,
            detail={"unit_id": self.units[unit], "task_id": rect.task_id, **extra},
        )

    def publication(
        self,
        action: str,
        pub_id: int,
        record: InspectionRecord,
        unit: str,
        due: date,
        at: datetime,
        **extra: Any,
    ) -> None:
        self.event(
            action,
            "publication",
            pub_id,
            at,
            detail={
                "record_id": record.id,
                "task_id": record.task_id,
                "unit_id": self.units[unit],
                "due_date": due.isoformat(),
                **extra,
            },
        )


def build(session: Session, audit_log: AuditLog) -> World:
    """Units A (市容环境卫生监管处), B (市政公用监管处), C (城市规划监管处) under a bureau, one
    inspector each, a scenario and an item."""
    world = World(session, audit_log)
    now = bj(1, 1)
    bureau = make_unit(session, "丽水市综合行政执法局", "丽综执", "bureau")
    world.bureau = bureau.id
    for key, name in (("A", "市容环境卫生监管处"), ("B", "市政公用监管处"), ("C", "城市规划监管处")):
        world.units[key] = make_unit(session, name, "丽综执", "dept", bureau).id
    leader = make_person(session, "局领导", "leader", now=now, roles=("leader",), unit=bureau)
    world.person = leader.id
    for key, unit_id in world.units.items():
        person = make_person(session, f"检查员{key}", f"insp-{key}", now=now, roles=("inspector",))
        person.unit_id = unit_id
        inspector = Inspector(
            person_id=person.id, unit_id=unit_id, cert_no=f"33110{unit_id:03d}", updated_at=now
        )
        session.add(inspector)
        session.flush()
        world.inspectors[key] = inspector.id
    scenario = Scenario(name="餐饮门店综合查一次", lead_unit_id=world.units["A"], updated_at=now)
    session.add(scenario)
    item = PowerItem(
        code="ZF-1",
        name="门前三包责任落实检查",
        legal_basis="条例",
        owner_unit_id=world.units["A"],
        updated_at=now,
    )
    session.add(item)
    session.flush()
    world.scenario, world.item = scenario.id, item.id
    return world
