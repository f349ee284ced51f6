"""The demo directory: deterministic, valid codes, and the cases the demo needs to show."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from chayici.demo_data import THEMES, build_demo_directory
from handlers.directory import uscc
from handlers.directory.regions import LISHUI_REGIONS
from storage.models.directory import OBJECT_FLAGS, InspectionObject, Inspector, Scenario, Theme
from storage.models.platform import ChatIdentity, Conversation, Unit

TODAY = date(2026, 12, 1)


class _Rollback(Exception):
    pass


def _fingerprint(services, clock, seed):
    """Build inside a transaction, describe the result without ids, roll back."""
    try:
        with services.db.write() as session:
            directory = build_demo_directory(
                session, now=clock.now(), audit_log=services.audit_log, seed=seed
            )
            objects = session.execute(select(InspectionObject).order_by(InspectionObject.id)).scalars().all()
            inspectors = session.execute(select(Inspector).order_by(Inspector.id)).scalars().all()
            found = (
                [(p.staff_id, p.name, p.unit, p.roles, p.mobile) for p in directory.people],
                [(g.conversation_id, g.member_staff_ids) for g in directory.groups],
                [
                    (
                        o.uscc,
                        o.legacy_reg_no,
                        o.name,
                        o.risk_class,
                        o.region_code,
                        o.contact_phone,
                        o.key_supervision_from,
                        o.no_disturb_from,
                    )
                    for o in objects
                ],
                [(i.cert_no, i.cert_valid_to, i.fields) for i in inspectors],
            )
            raise _Rollback
    except _Rollback:
        return found


def test_same_seed_builds_the_same_directory_and_another_seed_does_not(services, clock):
    first = _fingerprint(services, clock, 2022)
    assert _fingerprint(services, clock, 2022) == first
    assert _fingerprint(services, clock, 7) != first


def test_full_demo_directory_has_2000_objects_with_valid_distinct_codes_in_every_region(services, clock):
    with services.db.write() as session:
        directory = build_demo_directory(session, now=clock.now(), audit_log=services.audit_log)
    with services.db.read() as session:
        objects = session.execute(select(InspectionObject)).scalars().all()
    assert len(objects) == len(directory.object_ids) == 2000
    codes = [o.uscc for o in objects if o.uscc]
    assert len(set(codes)) == len(codes)
    assert all(uscc.is_valid(code) for code in codes)
    legacy = [o.legacy_reg_no for o in objects if o.legacy_reg_no]
    assert legacy and all(len(number) == 15 and number.isdigit() for number in legacy)
    assert {o.region_code for o in objects} == set(LISHUI_REGIONS)
    assert {o.risk_class for o in objects} >= {"A", "B", "C", "D"}
    for flag in OBJECT_FLAGS:
        assert any(o.flag_on(flag, TODAY) for o in objects), flag
    assert Counter(code[:2] for code in codes).keys() >= {"91", "92", "93"}


def test_people_certificates_and_groups_cover_the_demo_cases(services, clock, demo):
    with services.db.read() as session:
        inspectors = session.execute(select(Inspector)).scalars().all()
        staff_ids = set(session.execute(select(ChatIdentity.staff_id)).scalars())
        units = {u.name: u for u in session.execute(select(Unit)).scalars()}
        conversations = {c.id: c for c in session.execute(select(Conversation)).scalars()}
    assert 35 <= len(inspectors) <= 45
    soon = [
        i for i in inspectors if i.cert_valid_to and TODAY <= i.cert_valid_to <= TODAY + timedelta(days=30)
    ]
    expired = [i for i in inspectors if i.cert_valid_to and i.cert_valid_to < TODAY]
    auxiliaries = [i for i in inspectors if i.auxiliary]
    assert len(soon) >= 3 and len(expired) == 1
    assert auxiliaries and all(i.cert_no is None and not i.certified_on(TODAY) for i in auxiliaries)
    for role in ("leader", "sysadmin", "auditor", "unit_admin"):
        assert demo.with_role(role), role
    leader_ids = {p.person_id for p in demo.with_role("leader")}
    for name in ("市容环境卫生监管处", "直属执法大队", "莲都执法大队"):
        assert units[name].approver_person_id in leader_ids
    assert {u.kind for u in units.values()} >= {
        "bureau",
        "dept",
        "squad",
        "external",
        "police",
        "procuratorate",
        "government",
    }
    for group in demo.groups:
        assert set(group.member_staff_ids) <= staff_ids
        assert conversations[group.conversation_id].purpose == group.purpose
    joint = next(g for g in demo.groups if g.purpose == "joint")
    admins = {p.staff_id for p in demo.with_role("unit_admin")}
    assert admins <= set(joint.member_staff_ids)


def test_provincial_themes_have_scenarios_whose_items_belong_to_their_units(services, clock, demo):
    with services.db.read() as session:
        themes = {t.name: t for t in session.execute(select(Theme)).scalars()}
        scenarios = session.execute(select(Scenario)).scalars().all()
        for name in ("时令蔬果自产自销监管一件事", "火车站站前监管一件事", "人行道监管一件事"):
            assert themes[name].level == "provincial" and themes[name].scenarios
        assert len(themes) == len(THEMES) and {t.level for t in themes.values()} == {"provincial", "local"}
        for scenario in scenarios:
            involved = {scenario.lead_unit_id, *(link.unit_id for link in scenario.co_units)}
            assert scenario.items
            for link in scenario.items:
                assert link.power_item.owner_unit_id in involved, (scenario.name, link.power_item.code)
                assert link.power_item.legal_basis.startswith("《")
