"""A directory for draw tests: a bureau with three offices, certified inspectors (and some who
must never be drawn), objects of every risk class, a scenario with items needing field tags, and
helpers to make an approved task and a handler context without going through negotiation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bot.context import TickContext
from storage.models import (
    ROLE_INSPECTOR,
    ROLE_LEADER,
    ROLE_UNIT_ADMIN,
    InspectionObject,
    Inspector,
    InspectorConflict,
    Person,
    PowerItem,
    Scenario,
    ScenarioItem,
    ScenarioUnit,
)
from storage.models.tasks import Task, TaskUnit
from tests.helpers import GROUP, make_person, make_unit

WINDOW = (date(2026, 12, 3), date(2026, 12, 4))  # Thursday, Friday
_events = itertools.count(1)


@dataclass
class DrawWorld:
    bureau: int
    lead: int
    co_a: int
    co_b: int
    scenario: int
    lead_admin_person: int
    approver_person: int
    inspectors: dict[str, int] = field(default_factory=dict)  # staff id -> inspector id
    objects: dict[str, int] = field(default_factory=dict)  # name -> object id
    lead_admin: str = "lead-admin"
    co_a_admin: str = "co-a-admin"
    co_b_admin: str = "co-b-admin"
    approver: str = "leader"
    group: str = GROUP


def add_inspector(
    session: Session,
    now: Any,
    unit_id: int,
    staff: str,
    name: str,
    cert: str | None,
    *,
    tags: tuple[str, ...] = (),
    valid: tuple[date, date] = (date(2024, 1, 1), date(2028, 12, 31)),
    status: str = "valid",
    auxiliary: bool = False,
    assignable: bool = True,
    bind: bool = True,
) -> Inspector:
    person = Person(name=name, unit_id=unit_id, active=True, created_at=now)
    session.add(person)
    session.flush()
    if bind:
        from storage.models import ChatIdentity, PersonRole

        session.add(PersonRole(person_id=person.id, role=ROLE_INSPECTOR, unit_id=unit_id))
        session.add(ChatIdentity(corp_id="dingchayicicorp", staff_id=staff, person_id=person.id, nick=name))
    inspector = Inspector(
        person_id=person.id,
        unit_id=unit_id,
        cert_no=cert,
        cert_valid_from=valid[0],
        cert_valid_to=valid[1],
        cert_status=status,
        fields=list(tags),
        auxiliary=auxiliary,
        assignable=assignable,
        active=True,
        updated_at=now,
    )
    session.add(inspector)
    session.flush()
    return inspector


def add_object(session: Session, now: Any, name: str, **values: Any) -> InspectionObject:
    defaults: dict[str, Any] = {
        "name": name,
        "entity_type": "企业",
        "industry": "餐饮",
        "region_code": "331102",
        "address": f"莲都区{name}路1号",
        "contact_phone": "13900000000",
        "contact_name": "联系人",
        "registration_status": "存续",
        "risk_class": "B",
        "active": True,
        "updated_at": now,
    }
    defaults.update(values)
    obj = InspectionObject(**defaults)
    session.add(obj)
    session.flush()
    return obj


def build_world(session: Session, now: Any) -> DrawWorld:
    bureau = make_unit(session, "丽水市综合行政执法局", "丽综执", "bureau")
    lead = make_unit(session, "市容环境卫生监管处", "丽综执", "dept", bureau)
    co_a = make_unit(session, "市政公用监管处", "丽综执", "dept", bureau)
    co_b = make_unit(session, "城市规划监管处", "丽综执", "dept", bureau)
    bureau.phone = "0578-0000000"
    leader = make_person(session, "局长甲", "leader", now=now, roles=(ROLE_LEADER,), unit=bureau)
    lead.approver_person_id = leader.id
    lead_admin = make_person(
        session, "牵头管理员", "lead-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=lead
    )
    make_person(session, "协同甲管理员", "co-a-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=co_a)
    make_person(session, "协同乙管理员", "co-b-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=co_b)
    world = DrawWorld(bureau.id, lead.id, co_a.id, co_b.id, 0, lead_admin.id, leader.id)
    people = [
        (lead, "insp-l1", "陈立", "33110001", ("市容",)),
        (lead, "insp-l2", "王芳", "33110002", ("市容", "环卫")),
        (lead, "insp-l3", "赵强", "33110003", ("市容",)),
        (co_a, "insp-a1", "周敏", "33110011", ("市政",)),
        (co_a, "insp-a2", "吴军", "33110012", ("市政",)),
        (co_a, "insp-a3", "郑洁", "33110013", ("市政",)),
        (co_b, "insp-b1", "孙磊", "33110021", ()),
        (co_b, "insp-b2", "李娜", "33110022", ()),
    ]
    for unit, staff, name, cert, tags in people:
        world.inspectors[staff] = add_inspector(session, now, unit.id, staff, name, cert, tags=tags).id
    # Never drawn: expired during the window, auxiliary, not assignable, suspended.
    add_inspector(session, now, lead.id, "x-expired", "过期甲", "33119001", tags=("市容",),
                  valid=(date(2024, 1, 1), date(2026, 12, 3)))  # fmt: skip
    add_inspector(session, now, lead.id, "x-aux", "辅助乙", None, tags=("市容",), auxiliary=True)
    add_inspector(session, now, lead.id, "x-off", "暂停丙", "33119003", tags=("市容",), assignable=False)
    add_inspector(session, now, co_a.id, "x-susp", "暂扣丁", "33119004", tags=("市政",), status="suspended")
    risks = ["A", "A", "B", "B", "C", "C", "D", "D", None, "B"]
    for n, risk in enumerate(risks, start=1):
        jur = lead.id if n % 2 else co_a.id
        world.objects[f"对象{n:02d}"] = add_object(
            session,
            now,
            f"对象{n:02d}",
            risk_class=risk,
            jurisdiction_unit_id=jur,
            uscc=f"9133110200000000{n:02d}",
        ).id
    world.objects["无事不扰户"] = add_object(
        session, now, "无事不扰户", risk_class="A", no_disturb_from=date(2026, 1, 1)
    ).id
    world.objects["已注销户"] = add_object(session, now, "已注销户", registration_status="注销").id
    world.objects["停用户"] = add_object(session, now, "停用户", active=False).id
    world.objects["外区户"] = add_object(session, now, "外区户", region_code="331121").id
    world.objects["零售户"] = add_object(session, now, "零售户", industry="零售").id
    scenario = Scenario(name="餐饮门店综合查一次", lead_unit_id=lead.id, industries=["餐饮"], updated_at=now)
    session.add(scenario)
    session.flush()
    world.scenario = scenario.id
    session.add_all(
        [
            ScenarioUnit(scenario_id=scenario.id, unit_id=co_a.id),
            ScenarioUnit(scenario_id=scenario.id, unit_id=co_b.id),
        ]
    )
    for position, (unit, code, name, tags) in enumerate(
        [
            (lead, "330217101000", "门前三包责任落实检查", ["市容"]),
            (co_a, "330217102000", "燃气使用安全检查", ["市政"]),
        ],
        start=1,
    ):
        item = PowerItem(
            code=code,
            name=name,
            legal_basis=f"《浙江省综合行政执法条例》第{10 + position}条",
            owner_unit_id=unit.id,
            default_method="on_site",
            methods=["on_site"],
            check_points=[f"{name}要点"],
            field_tags=tags,
            updated_at=now,
        )
        session.add(item)
        session.flush()
        session.add(ScenarioItem(scenario_id=scenario.id, power_item_id=item.id, position=position))
    session.flush()
    return world


@pytest.fixture
def draw_world(services, clock) -> DrawWorld:
    with services.db.write() as session:
        return build_world(session, clock.now())


def make_task(
    session: Session,
    world: DrawWorld,
    now: Any,
    *,
    count: int | None = 4,
    ratio: float | None = None,
    per_object: int = 2,
    mode: str = "even",
    source: str = "plan",
    prenotice: str = "send",
    prenotice_reason: str | None = None,
    state: str = "approved",
    units: tuple[int, ...] | None = None,
    window: tuple[date, date] = WINDOW,
    number: str | None = None,
    conversation_id: str | None = GROUP,
    method: str = "on_site",
    area_codes: list[str] | None = None,
) -> Task:
    seq = session.query(Task).count() + 1
    task = Task(
        number=number or f"丽综执联查〔2026〕{seq}号",
        year=2026,
        seq=seq,
        scenario_id=world.scenario,
        lead_unit_id=world.lead,
        source=source,
        method=method,
        window_start=window[0],
        window_end=window[1],
        object_count=count,
        object_ratio=ratio,
        inspectors_per_object=per_object,
        draw_mode=mode,
        area_codes=area_codes or [],
        prenotice=prenotice,
        prenotice_reason=prenotice_reason,
        state=state,
        version=1,
        round=1,
        conversation_id=conversation_id,
        created_by_person_id=world.lead_admin_person,
        created_at=now,
        updated_at=now,
        approved_at=now if state == "approved" else None,
        approver_person_id=world.approver_person,
    )
    for unit in (world.co_a, world.co_b) if units is None else units:
        task.units.append(TaskUnit(unit_id=unit, state="agreed"))
    session.add(task)
    session.flush()
    session.refresh(task)
    return task


def context(
    services, session: Session, *, person_id: int | None = None, staff: str | None = None
) -> TickContext:
    person = session.get(Person, person_id) if person_id else None
    return TickContext(
        session=session,
        now=services.clock.now(),
        settings=services.settings,
        audit_log=services.audit_log,
        person=person,
        staff_id=staff,
        event_key=f"test:{next(_events)}",
    )


def add_conflict(session: Session, now: Any, inspector_id: int, object_id: int) -> None:
    session.add(
        InspectorConflict(inspector_id=inspector_id, object_id=object_id, reason="近亲属", declared_at=now)
    )
    session.flush()


@pytest.fixture
def live(services):
    """The live pair with a generous workspace QPS: the manual clock stands still, so the
    workspace's one-second window never slides and 20 calls per family would block the rest."""
    from tests.live import Live

    running = Live(services, qps={"robot": 1000, "card": 1000, "oapi": 1000})
    yield running
    running.close()
