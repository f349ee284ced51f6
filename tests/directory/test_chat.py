"""The chat commands through the signed robot callback, with the queued reply asserted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.ticker import Ticker
from storage import history
from storage.models.directory import InspectionObject, Inspector, Theme
from storage.models.platform import AuditEvent, DueItem, Person
from tests.conftest import TEST_SECRET
from tests.directory.conftest import replies
from tests.helpers import post_robot, robot_body


def say(client, clock, text, staff_id, *, group=True):
    response = post_robot(client, TEST_SECRET, robot_body(text, staff_id=staff_id, group=group), clock.now())
    assert response.status_code == 200


def theme_named(services, name) -> Theme:
    with services.db.read() as session:
        return session.execute(select(Theme).where(Theme.name == name)).scalar_one()


def audits(services, action):
    with services.db.read() as session:
        return session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_scenarios_lists_lead_and_co_units_and_items(client, services, clock, demo):
    say(client, clock, "场景", demo.people[-1].staff_id)
    text = replies(services)[-1]
    assert "人行道秩序联合检查" in text
    assert "牵头：市容环境卫生监管处；协同：市政公用监管处、丽水市公安局" in text
    assert "ZF-SZ-001 对擅自占用、挖掘城市道路的检查" in text


def test_scenario_detail_shows_legal_basis_and_check_points(client, services, clock, demo):
    say(client, clock, "场景 人行道", demo.people[-1].staff_id)
    text = replies(services)[-1]
    assert text.startswith("#### 人行道秩序联合检查")
    assert "《城市道路管理条例》第二十七条" in text
    assert "是否按批准的位置、面积和期限占用" in text
    assert "所属主题：人行道监管一件事" in text


def test_scenario_can_be_found_by_its_theme_name(client, services, clock, demo):
    say(client, clock, "场景 餐饮油烟扰民", demo.people[-1].staff_id)
    assert replies(services)[-1].startswith("#### 餐饮门店油烟与门前秩序联合检查")


def test_themes_show_claims_progress_and_mark_overdue(client, services, clock, demo):
    say(client, clock, "主题", demo.people[-1].staff_id)
    text = replies(services)[-1]
    assert "**⚠️ 火车站站前监管一件事**（省级，已逾期）" in text
    assert "认领单位：直属执法大队" in text
    assert "2026-11-30（已逾期 1 天）" in text
    assert "**人行道监管一件事**（省级，待认领）" in text
    assert "已完成 0 次 / 需 1 次" in text


def test_claim_by_a_non_admin_is_refused_and_audited(client, services, clock, demo):
    inspector = next(p for p in demo.people if p.roles == ("inspector",))
    say(client, clock, "认领 人行道", inspector.staff_id)
    assert "单位管理员" in replies(services)[-1]
    denied = audits(services, "access.denied")
    assert len(denied) == 1 and denied[0].actor == f"person:{inspector.person_id}"
    assert theme_named(services, "人行道监管一件事").status == "open"


def test_claim_of_a_theme_claimed_by_another_unit_is_refused_and_audited(client, services, clock, demo):
    admin = demo.with_role("unit_admin", unit="市政公用监管处")[0]
    say(client, clock, "认领 火车站站前", admin.staff_id)
    assert "已由直属执法大队认领" in replies(services)[-1]
    refused = audits(services, "theme.claim_refused")
    assert len(refused) == 1 and "直属执法大队" in refused[0].body
    theme = theme_named(services, "火车站站前监管一件事")
    assert theme.claimed_by_unit_id == demo.units["直属执法大队"]


def test_claim_of_an_unknown_theme_is_refused(client, services, clock, demo):
    admin = demo.with_role("unit_admin", unit="市政公用监管处")[0]
    say(client, clock, "认领 不存在的主题", admin.staff_id)
    assert "没有找到主题「不存在的主题」" in replies(services)[-1]


def test_successful_claim_records_version_audit_and_deadline_check(client, services, clock, demo):
    admin = demo.with_role("unit_admin", unit="市容环境卫生监管处")[0]
    say(client, clock, "认领 人行道 2026-12-20", admin.staff_id)
    text = replies(services)[-1]
    assert "已为**市容环境卫生监管处**认领「人行道监管一件事」" in text
    assert "2026-12-20（还剩 19 天）" in text
    theme = theme_named(services, "人行道监管一件事")
    assert theme.status == "claimed" and theme.claimed_by_unit_id == demo.units["市容环境卫生监管处"]
    assert theme.deadline.isoformat() == "2026-12-20" and theme.claimed_by_person_id == admin.person_id
    claim = audits(services, "theme.claim")
    assert len(claim) == 1 and claim[0].actor == f"person:{admin.person_id}"
    with services.db.read() as session:
        assert history.versions(session, "theme", theme.id)[-1].after["status"] == "claimed"
        due = session.execute(select(DueItem).where(DueItem.kind == "theme.deadline")).scalar_one()
    assert due.due_at == datetime(2026, 12, 20, 16, 0, tzinfo=UTC)  # midnight in Beijing


def test_unfulfilled_theme_becomes_overdue_when_its_deadline_passes(client, services, clock, demo):
    admin = demo.with_role("unit_admin", unit="市容环境卫生监管处")[0]
    say(client, clock, "认领 人行道 2026-12-20", admin.staff_id)
    clock.set(datetime(2026, 12, 20, 15, 59, tzinfo=UTC))
    Ticker(services).scan_due()
    assert theme_named(services, "人行道监管一件事").status == "claimed"
    clock.set(datetime(2026, 12, 20, 16, 0, tzinfo=UTC))
    Ticker(services).scan_due()
    assert theme_named(services, "人行道监管一件事").status == "overdue"
    assert len(audits(services, "theme.overdue")) == 1


def test_claim_with_a_bad_date_asks_for_the_right_form(client, services, clock, demo):
    admin = demo.with_role("unit_admin", unit="市容环境卫生监管处")[0]
    say(client, clock, "认领 人行道 12月底", admin.staff_id)
    assert "不是日期" in replies(services)[-1]
    assert theme_named(services, "人行道监管一件事").status == "open"


def test_find_object_by_code_masks_the_phone(client, services, clock, demo):
    with services.db.read() as session:
        obj = (
            session.execute(
                select(InspectionObject)
                .where(InspectionObject.uscc.is_not(None))
                .order_by(InspectionObject.id)
            )
            .scalars()
            .first()
        )
    say(client, clock, f"查对象 {obj.uscc}", demo.people[-1].staff_id)
    text = replies(services)[-1]
    assert text.startswith(f"#### {obj.name}")
    assert obj.contact_phone not in text
    assert f"{obj.contact_phone[:3]}****{obj.contact_phone[-4:]}" in text
    assert "风险等级：" in text and "最近检查：暂无检查记录" in text


def test_find_object_by_part_of_the_name_lists_matches(client, services, clock, demo):
    say(client, clock, "查对象 有限公司", demo.people[-1].staff_id)
    text = replies(services)[-1]
    assert text.startswith("#### 找到 ") and "（列出前 10 个）" in text
    assert "发送「查对象 统一社会信用代码」查看详情" in text


def test_find_object_without_a_match(client, services, clock, demo):
    say(client, clock, "查对象 不存在的公司名", demo.people[-1].staff_id)
    assert "没有找到与「不存在的公司名」匹配的检查对象" in replies(services)[-1]


def test_stranger_cannot_look_up_objects(client, services, clock, demo):
    say(client, clock, "查对象 丽水", "stranger-1")
    assert "登记" in replies(services)[-1]


def _inspector_with_cert_ending(services, day):
    with services.db.read() as session:
        return session.execute(
            select(Person)
            .join(Inspector, Inspector.person_id == Person.id)
            .where(Inspector.cert_valid_to == day)
        ).scalar_one()


def test_my_info_shows_certificate_and_days_left(client, services, clock, demo):
    from datetime import date

    person = _inspector_with_cert_ending(services, date(2026, 12, 18))
    staff = next(p.staff_id for p in demo.people if p.person_id == person.id)
    say(client, clock, "我的信息", staff, group=False)
    text = replies(services)[-1]
    assert f"姓名：{person.name}" in text
    assert "至 2026-12-18（还剩 17 天，请尽快办理换证）" in text
    assert "可参与抽检：是" in text


def test_my_info_explains_why_an_expired_inspector_is_not_assignable(client, services, clock, demo):
    from datetime import date

    person = _inspector_with_cert_ending(services, date(2026, 11, 20))
    staff = next(p.staff_id for p in demo.people if p.person_id == person.id)
    say(client, clock, "我的信息", staff, group=False)
    text = replies(services)[-1]
    assert "已过期 11 天" in text
    assert "可参与抽检：否（执法证已于 2026-11-20 到期）" in text


def test_my_info_is_refused_in_a_group(client, services, clock, demo):
    say(client, clock, "我的信息", demo.people[-1].staff_id, group=True)
    assert "单聊" in replies(services)[-1]
