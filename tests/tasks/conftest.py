"""A small directory for task tests: a lead unit, two co-units, admins, an approver, a scenario."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from storage.models import (
    ROLE_INSPECTOR,
    ROLE_LEADER,
    ROLE_UNIT_ADMIN,
    Inspector,
    PowerItem,
    Scenario,
    ScenarioItem,
    ScenarioUnit,
    Theme,
    ThemeScenario,
)
from tests.helpers import GROUP, make_person, make_unit


@dataclass
class World:
    bureau: int
    lead: int
    co_a: int
    co_b: int
    scenario: int
    theme: int
    lead_admin: str = "lead-admin"
    co_a_admin: str = "co-a-admin"
    co_b_admin: str = "co-b-admin"
    approver: str = "leader"
    outsider: str = "outsider"
    group: str = GROUP


@pytest.fixture
def world(services, clock) -> World:
    now = clock.now()
    with services.db.write() as session:
        bureau = make_unit(session, "丽水市综合行政执法局", "丽综执", "bureau")
        lead = make_unit(session, "市容环境卫生监管处", "丽综执", "dept", bureau)
        co_a = make_unit(session, "市政公用监管处", "丽综执", "dept", bureau)
        co_b = make_unit(session, "城市规划监管处", "丽综执", "dept", bureau)
        leader = make_person(session, "局长甲", "leader", now=now, roles=(ROLE_LEADER,), unit=bureau)
        lead.approver_person_id = leader.id
        make_person(session, "牵头管理员", "lead-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=lead)
        make_person(session, "协同甲管理员", "co-a-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=co_a)
        make_person(session, "协同乙管理员", "co-b-admin", now=now, roles=(ROLE_UNIT_ADMIN,), unit=co_b)
        make_person(session, "旁观者", "outsider", now=now, roles=(ROLE_INSPECTOR,), unit=co_a)
        for unit, code, methods in (
            (lead, "330217001000", ["on_site"]),
            (co_a, "330217002000", ["on_site", "written"]),
        ):
            item = PowerItem(
                code=code,
                name=f"{unit.name}检查事项",
                legal_basis="《浙江省综合行政执法条例》第十条",
                owner_unit_id=unit.id,
                default_method="on_site",
                methods=methods,
                check_points=["占道经营"],
                field_tags=["市容"],
                provision="第二十条",
                order_basis="第三十条",
                updated_at=now,
            )
            session.add(item)
            session.flush()
            unit_item = item
        scenario = Scenario(name="人行道违规占用检查", lead_unit_id=lead.id, updated_at=now)
        session.add(scenario)
        session.flush()
        session.add_all(
            [
                ScenarioUnit(scenario_id=scenario.id, unit_id=co_a.id),
                ScenarioUnit(scenario_id=scenario.id, unit_id=co_b.id),
            ]
        )
        session.add(
            ScenarioItem(
                scenario_id=scenario.id, power_item_id=unit_item.id, content="人行道占道", position=1
            )
        )
        theme = Theme(
            name="人行道监管一件事", level="provincial", deadline=date(2026, 12, 31), updated_at=now
        )
        session.add(theme)
        session.flush()
        session.add(ThemeScenario(theme_id=theme.id, scenario_id=scenario.id))
        inspector_person = make_person(
            session, "检查员一", "insp-1", now=now, roles=(ROLE_INSPECTOR,), unit=lead
        )
        session.add(
            Inspector(
                person_id=inspector_person.id,
                unit_id=lead.id,
                cert_no="33110001",
                cert_valid_from=date(2024, 1, 1),
                cert_valid_to=date(2028, 1, 1),
                updated_at=now,
            )
        )
        return World(bureau.id, lead.id, co_a.id, co_b.id, scenario.id, theme.id)
