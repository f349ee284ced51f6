"""Drawing through the database: the pool, the teams, the record, redraws and verification.

These run on SQLite and, with CHAYICI_TEST_DATABASE_URL set, on PostgreSQL: the golden test
below asserts the same pool hash and the same draw on both."""

from __future__ import annotations

import zlib
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers.draw import cli, service
from handlers.draw.canonical import canonical_bytes, unpack
from handlers.draw.pool import POOL_PARTS, in_pool, object_pool, pool_filter
from handlers.draw.progress import objects_at_cap
from handlers.draw.verify import verify_task
from handlers.tasks import hooks
from storage.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    DrawRecord,
    InspectionObject,
    Inspector,
    InspectorConflict,
)
from tests.draw.conftest import add_conflict, context, make_task


def draw(services, clock, world, *, seed: str = "seed-1", **task_values):
    with services.db.write() as session:
        task = make_task(session, world, clock.now(), **task_values)
        ctx = context(services, session, person_id=world.lead_admin_person)
        row = service.draw_task(ctx, task, seed=seed)
        return task.id, row.id


def snapshot_of(services, record_id: int) -> dict:
    with services.db.read() as session:
        return unpack(session.get(DrawRecord, record_id).snapshot)[0]


def names(services, ids) -> list[str]:
    with services.db.read() as session:
        found = {o.id: o.name for o in session.execute(select(InspectionObject)).scalars()}
    return [found[i] for i in ids]


def teams(services, record_id: int) -> list[tuple[str, list[str]]]:
    with services.db.read() as session:
        row = session.get(DrawRecord, record_id)
        objects = {o.id: o.name for o in session.execute(select(InspectionObject)).scalars()}
        certs = {i.id: i.cert_no for i in session.execute(select(Inspector)).scalars()}
        return [(objects[s["object"]], [certs[i] for i in s["team"]]) for s in row.result["slots"]]


def test_pool_leaves_out_no_disturb_inactive_deregistered_and_other_industries(services, clock, draw_world):
    _, record_id = draw(services, clock, draw_world)
    pool = snapshot_of(services, record_id)["objects"]
    assert sorted(names(services, [int(i) for i in pool["ids"].split(",")])) == sorted(
        [f"对象{n:02d}" for n in range(1, 11)] + ["外区户"]
    )
    assert pool["strata"] == "AABBCCDDUBB"


def test_a_complaint_may_draw_no_disturb_objects_and_area_codes_limit_the_pool(services, clock, draw_world):
    _, record_id = draw(services, clock, draw_world, source="complaint", area_codes=["331102"], count=2)
    ids = [int(i) for i in snapshot_of(services, record_id)["objects"]["ids"].split(",")]
    assert "无事不扰户" in names(services, ids) and "外区户" not in names(services, ids)


class _Discard(Exception):
    """Rolls a test's write transaction back."""


def test_the_pool_read_in_parallel_id_ranges_is_every_admitted_object_once_in_id_order(
    services, clock, draw_world
):
    """On PostgreSQL the pool is aggregated in id ranges side by side; joined, the parts must be
    exactly what the predicate admits, each object once, in id order, with one stratum each."""
    with pytest.raises(_Discard), services.db.write() as session:  # the task is not kept
        task = make_task(session, draw_world, clock.now())
        flt = pool_filter(task, clock.now().date())
        every_id = list(session.execute(select(InspectionObject.id)).scalars())
        admitted = sorted(in_pool(session, flt, every_id))
        pool = object_pool(session, flt)
        raise _Discard
    ids = [int(i) for i in pool.ids.split(",")]
    assert ids == admitted and pool.size == len(ids) == len(pool.strata)
    assert len(every_id) > POOL_PARTS  # so that every range has something to read


# Recorded once; the suite asserts it on SQLite and on PostgreSQL alike.
GOLDEN_POOL_HASH = "e5c6e1df7404fe97c613c2ac5b84704f41464ee6c932829c9f4f4826241cf182"
GOLDEN_TEAMS = [
    ("对象06", ["33110002", "33110013", "33110021"]),
    ("对象07", ["33110001", "33110011", "33110022"]),
    ("对象08", ["33110003", "33110012", "33110021"]),
    ("对象10", ["33110002", "33110013", "33110022"]),
]


def test_the_same_directory_and_seed_give_the_same_draw_on_sqlite_and_postgresql(services, clock, draw_world):
    _, record_id = draw(services, clock, draw_world, seed="golden-seed")
    with services.db.read() as session:
        row = session.get(DrawRecord, record_id)
        assert row.pool_hash == GOLDEN_POOL_HASH, row.pool_hash
    assert teams(services, record_id) == GOLDEN_TEAMS


def test_every_team_member_is_certified_over_the_window_and_each_unit_is_represented(
    services, clock, draw_world
):
    task_id, _ = draw(services, clock, draw_world, count=6, per_object=2)
    with services.db.read() as session:
        task_units = {draw_world.lead, draw_world.co_a, draw_world.co_b}
        rows = session.execute(
            select(Assignment.id, Inspector).join(AssignmentMember, AssignmentMember.assignment_id == Assignment.id)
            .join(Inspector, Inspector.id == AssignmentMember.inspector_id).where(Assignment.task_id == task_id)
        ).all()  # fmt: skip
    by_slot: dict[int, list[Inspector]] = {}
    for assignment, inspector in rows:
        by_slot.setdefault(assignment, []).append(inspector)
    assert len(by_slot) == 6
    for members in by_slot.values():
        assert len(members) >= 2
        assert {m.unit_id for m in members} == task_units
        for member in members:
            assert member.certified_on(date(2026, 12, 3)) and member.certified_on(date(2026, 12, 4))
            assert member.assignable and not member.auxiliary


def test_declared_conflicts_and_cross_office_jurisdiction_are_never_drawn(services, clock, draw_world):
    lead_people = [draw_world.inspectors[s] for s in ("insp-l1", "insp-l2")]
    with services.db.write() as session:
        for inspector in lead_people:
            for n in range(1, 11):
                add_conflict(session, clock.now(), inspector, draw_world.objects[f"对象{n:02d}"])
    with services.db.write() as session:
        task = make_task(session, draw_world, clock.now(), count=6, mode="cross_office")
        ctx = context(services, session)
        ctx.settings = services.settings.model_copy(update={"draw_min_per_unit": 0})
        record_id = service.draw_task(ctx, task, seed="s").id
    with services.db.read() as session:
        row = session.get(DrawRecord, record_id)
        objects = {o.id: o for o in session.execute(select(InspectionObject)).scalars()}
        units = {i.id: i.unit_id for i in session.execute(select(Inspector)).scalars()}
    conflicted = {draw_world.objects[f"对象{n:02d}"] for n in range(1, 11)}
    assert len(row.result["slots"]) == 6
    for slot in row.result["slots"]:
        if slot["object"] in conflicted:
            assert not set(slot["team"]) & set(lead_people)
        assert all(units[i] != objects[slot["object"]].jurisdiction_unit_id for i in slot["team"])


def test_an_unstaffable_pool_names_the_unit_lacking_whom_and_stores_nothing(services, clock, draw_world):
    with services.db.write() as session:
        for staff in ("insp-a1", "insp-a2", "insp-a3"):
            session.get(Inspector, draw_world.inspectors[staff]).cert_valid_to = date(2026, 12, 3)
        task = make_task(session, draw_world, clock.now())
        ctx = context(services, session, person_id=draw_world.lead_admin_person)
        with pytest.raises(service.DrawFailed) as failed:
            service.draw_task(ctx, task, seed="s")
    message = failed.value.message
    assert (
        "市政公用监管处缺少执法证在检查期间（2026-12-03至2026-12-04）有效、具备「市政」执法领域的检查人员"
        in message
    )
    assert "在册检查人员 4 名" in message and "执法证覆盖检查期间 0 名" in message
    assert "未保存任何结果" in message
    with services.db.read() as session:
        assert session.execute(select(func.count()).select_from(DrawRecord)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Assignment)).scalar_one() == 0


def test_a_failed_draw_at_approval_keeps_the_approval_and_tells_the_group(services, clock, draw_world):
    with services.db.write() as session:
        for staff in ("insp-b1", "insp-b2"):
            session.get(Inspector, draw_world.inspectors[staff]).assignable = False
        task = make_task(session, draw_world, clock.now())
        ctx = context(services, session, person_id=draw_world.approver_person)
        for hook in hooks.on_approved:
            hook(ctx, task)
        assert task.state == "approved"
    with services.db.read() as session:
        actions = list(session.execute(select(AuditEvent.action)).scalars())
        assert session.execute(select(func.count()).select_from(DrawRecord)).scalar_one() == 0
    assert actions == ["draw.failed"]


def test_verify_replays_every_draw_and_detects_a_tampered_snapshot_or_result(
    services, clock, draw_world, capsys
):
    task_id, record_id = draw(services, clock, draw_world)
    settings = services.settings
    assert cli.verify(str(task_id), settings=settings) == 0
    assert "全部重算一致" in capsys.readouterr().out
    with services.db.write() as session:
        row = session.get(DrawRecord, record_id)
        snapshot, _ = unpack(row.snapshot)
        snapshot["objects"]["strata"] = snapshot["objects"]["strata"].replace("A", "D", 1)
        row.snapshot = zlib.compress(canonical_bytes(snapshot))
    assert cli.verify("丽综执联查〔2026〕1号", settings=settings) == 1
    assert "快照已被改动" in capsys.readouterr().out
    with services.db.write() as session:
        row = session.get(DrawRecord, record_id)
        snapshot["objects"]["strata"] = snapshot["objects"]["strata"].replace("D", "A", 1)
        row.snapshot = zlib.compress(canonical_bytes(snapshot))
        result = dict(row.result)
        result["slots"] = [dict(s) for s in result["slots"]]
        result["slots"][0]["team"] = list(reversed(result["slots"][0]["team"]))
        row.result = result
    assert cli.verify("1", settings=settings) == 1
    assert "结果与记录的结果不同" in capsys.readouterr().out


def test_redraw_needs_a_reason_and_keeps_the_superseded_draw(services, clock, draw_world):
    task_id, first_id = draw(services, clock, draw_world)
    with services.db.write() as session:
        task = session.get(service.Task, task_id)
        ctx = context(services, session, person_id=draw_world.lead_admin_person)
        with pytest.raises(service.DrawFailed):
            service.draw_task(ctx, task, seed="s2")
        second = service.draw_task(ctx, task, seed="s2", reason="对象名单更新后重抽")
        second_id = second.id
    with services.db.read() as session:
        first = session.get(DrawRecord, first_id)
        second = session.get(DrawRecord, second_id)
        active = session.execute(
            select(func.count()).select_from(Assignment).where(Assignment.state != "superseded")
        ).scalar_one()
        checks = verify_task(session, session.get(service.Task, task_id))
    assert (first.state, first.superseded_by_id) == ("superseded", second_id)
    assert (second.state, second.supersedes_id, second.reason) == ("current", first_id, "对象名单更新后重抽")
    assert active == 4
    assert [c.ok for c in checks] == [True, True]


def test_one_slot_can_be_redrawn_with_a_reason_and_the_others_stay(services, clock, draw_world):
    task_id, first_id = draw(services, clock, draw_world)
    with services.db.write() as session:
        task = session.get(service.Task, task_id)
        before = {a.slot: a.object_id for a in service.active_assignments(session, task_id)}
        ctx = context(services, session, person_id=draw_world.lead_admin_person)
        old, _new, row = service.redraw_slot(ctx, task, 2, "该户已停业", seed="slot-seed")
        after = {a.slot: a.object_id for a in service.active_assignments(session, task_id)}
        assert (row.kind, row.slot, row.supersedes_id) == ("slot", 2, first_id)
        checks = verify_task(session, task)
    assert {k: v for k, v in after.items() if k != 2} == {k: v for k, v in before.items() if k != 2}
    assert after[2] not in before.values() and old.state == "superseded"
    assert all(c.ok for c in checks) and len(checks) == 2


def test_objects_at_the_yearly_on_site_cap_are_warned_and_counted_for_the_task_card(
    services, clock, draw_world
):
    with services.db.write() as session:
        objects = [draw_world.objects[f"对象{n:02d}"] for n in range(1, 11)] + [draw_world.objects["外区户"]]
        for n in range(2):  # two earlier on-site tasks that visited every object
            old = make_task(session, draw_world, clock.now(), state="dispatched", number=f"旧任务{n}")
            row = DrawRecord(
                task_id=old.id, kind="full", state="current", algorithm_version=1, seed="x", pool_size=0,
                inspector_pool_size=0, pool_hash="0" * 64, snapshot=b"", result={}, warnings=[],
                operator="test", drawn_at=clock.now(),
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.add_all(
                Assignment(task_id=old.id, slot=i, object_id=o, planned_day=date(2026, 6, 1), draw_id=row.id,
                           state="dispatched", created_at=clock.now())
                for i, o in enumerate(objects, start=1)
            )  # fmt: skip
        task = make_task(session, draw_world, clock.now())
        assert objects_at_cap(session, task, 2) == 11
        row = service.draw_task(context(services, session), task, seed="s")
        assert len({w["object"] for w in row.warnings}) == 4
        assert {w["count"] for w in row.warnings} == {2}


_example = iter(range(1, 1_000_000))


@st.composite
def directories(draw_: st.DrawFn) -> dict:
    units = draw_(st.integers(1, 3))
    people = draw_(
        st.lists(
            st.tuples(
                st.integers(0, units - 1),  # unit
                st.sampled_from(["ok"] * 6 + ["expires", "starts_late", "aux", "off", "suspended"]),
                st.sampled_from([True, True, True, False]),  # has the tag
            ),
            min_size=4,
            max_size=12,
        )
    )
    jurisdiction = st.one_of(st.none(), st.integers(0, units - 1))
    objects = draw_(st.lists(st.tuples(st.sampled_from("ABCD"), jurisdiction), min_size=1, max_size=6))
    conflicts = draw_(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 5)), max_size=4))
    return {
        "units": units, "people": people, "objects": objects, "conflicts": conflicts,
        "count": draw_(st.integers(1, min(3, len(objects)))), "per_object": draw_(st.integers(2, 3)),
        "mode": draw_(st.sampled_from(["even", "cross_office"])),
    }  # fmt: skip


def _build(session, now, spec: dict, world) -> int:
    from storage.models import PowerItem, Scenario, ScenarioItem, ScenarioUnit
    from tests.draw.conftest import add_inspector, add_object
    from tests.helpers import make_unit

    n = next(_example)
    units = [make_unit(session, f"例{n}单位{u}", "例", "dept") for u in range(spec["units"])]
    people = []
    windows = {
        "ok": (date(2025, 1, 1), date(2027, 1, 1)),
        "expires": (date(2025, 1, 1), date(2026, 12, 3)),
        "starts_late": (date(2026, 12, 4), date(2027, 1, 1)),
    }
    for k, (unit, kind, tagged) in enumerate(spec["people"]):
        people.append(
            add_inspector(
                session, now, units[unit].id, f"p{n}-{k}", f"人{n}-{k}", f"C{n:05d}{k:02d}",
                tags=("领域",) if tagged else (), valid=windows.get(kind, windows["ok"]),
                status="suspended" if kind == "suspended" else "valid", auxiliary=kind == "aux",
                assignable=kind != "off", bind=False,
            )
        )  # fmt: skip
    objects = [
        add_object(
            session,
            now,
            f"例{n}对象{k}",
            industry=f"行业{n}",
            risk_class=risk,
            jurisdiction_unit_id=None if jur is None else units[jur].id,
        )
        for k, (risk, jur) in enumerate(spec["objects"])
    ]
    for person, obj in sorted(set(spec["conflicts"])):
        if person < len(people) and obj < len(objects):
            session.add(
                InspectorConflict(
                    inspector_id=people[person].id, object_id=objects[obj].id, reason="亲属", declared_at=now
                )
            )
    scenario = Scenario(name=f"例{n}场景", lead_unit_id=units[0].id, industries=[f"行业{n}"], updated_at=now)
    session.add(scenario)
    session.flush()
    for u in units[1:]:
        session.add(ScenarioUnit(scenario_id=scenario.id, unit_id=u.id))
    item = PowerItem(
        code=f"EX{n}",
        name="事项",
        legal_basis="依据",
        owner_unit_id=units[0].id,
        field_tags=["领域"],
        updated_at=now,
    )
    session.add(item)
    session.flush()
    session.add(ScenarioItem(scenario_id=scenario.id, power_item_id=item.id, position=1))
    session.flush()
    world.scenario, world.lead = scenario.id, units[0].id
    task = make_task(
        session, world, now, count=spec["count"], per_object=spec["per_object"], mode=spec["mode"],
        units=tuple(u.id for u in units[1:]), number=f"例{n}号", conversation_id=None,
    )  # fmt: skip
    return task.id


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=directories())
def test_random_directories_never_give_a_team_of_fewer_than_two_certified_or_a_conflicted_inspector(
    services, clock, draw_world, spec
):
    import copy

    world = copy.copy(draw_world)
    with services.db.write() as session:
        task_id = _build(session, clock.now(), spec, world)
        task = session.get(service.Task, task_id)
        try:
            service.draw_task(context(services, session), task, seed="prop")
        except service.DrawFailed:
            stored = session.execute(
                select(func.count()).select_from(DrawRecord).where(DrawRecord.task_id == task_id)
            )
            assert stored.scalar_one() == 0
            return
        conflicts = {
            (c.inspector_id, c.object_id) for c in session.execute(select(InspectorConflict)).scalars()
        }
        for assignment in service.active_assignments(session, task_id):
            members = service.members_of(session, [assignment.id])[assignment.id]
            obj = session.get(InspectionObject, assignment.object_id)
            assert len(members) >= 2
            for member in members:
                inspector = session.get(Inspector, member.inspector_id)
                assert inspector.certified_on(task.window_start) and inspector.certified_on(task.window_end)
                assert inspector.assignable and not inspector.auxiliary
                if inspector.unit_id == world.lead:
                    assert "领域" in inspector.fields
                assert (inspector.id, obj.id) not in conflicts
                if task.draw_mode == "cross_office":
                    assert inspector.unit_id != obj.jurisdiction_unit_id
