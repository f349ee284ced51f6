"""Importing units, inspectors, items, scenarios and themes: the rules each sheet enforces."""

from __future__ import annotations

from sqlalchemy import select

from handlers.directory import inspectors_sheet, items_sheet, scenarios_sheet, themes_sheet, units_sheet
from storage import history
from storage.models.directory import Inspector, PowerItem, Scenario, Theme
from storage.models.platform import ChatIdentity, Person, Unit
from tests.directory.sheet_files import run_import, write_csv


def sheet_row(spec, **values):
    return [values.get(header, "") for header in spec.headers]


def test_units_parent_may_come_earlier_in_the_same_file(services, clock, tmp_path):
    spec = units_sheet.SPEC
    rows = [
        sheet_row(spec, **{"单位名称": "测试局", "简称": "测局", "类型": "局"}),
        sheet_row(spec, **{"单位名称": "测试大队", "简称": "测队", "类型": "执法队", "上级单位": "测试局"}),
    ]
    report = run_import(services, clock, "units", write_csv(tmp_path / "u.csv", spec.headers, rows))
    assert report.committed and report.created == 2
    with services.db.read() as session:
        squad = session.execute(select(Unit).where(Unit.name == "测试大队")).scalar_one()
        parent = session.get(Unit, squad.parent_id)
    assert parent is not None and parent.name == "测试局" and squad.kind == "squad"


def test_units_parent_later_in_the_file_is_refused(services, clock, tmp_path):
    spec = units_sheet.SPEC
    rows = [
        sheet_row(spec, **{"单位名称": "测试大队", "简称": "测队", "上级单位": "测试局"}),
        sheet_row(spec, **{"单位名称": "测试局", "简称": "测局"}),
    ]
    report = run_import(services, clock, "units", write_csv(tmp_path / "u.csv", spec.headers, rows))
    assert not report.committed
    assert report.errors[0].row == 2 and report.errors[0].column == "上级单位"


def inspector_row(**values):
    base = {
        "姓名": "测试员",
        "钉钉用户ID": "test-inspector-1",
        "所属单位": "莲都执法大队",
        "手机号": "13900001111",
        "执法证号": "ZJ-TEST-0001",
        "证件有效期起": "2023-01-01",
        "证件有效期止": "2029-12-31",
        "证件状态": "有效",
        "执法领域": "市容环境卫生、市政公用",
        "辅助人员": "否",
        "可参与抽检": "是",
        "角色": "执法检查人员",
        "启用状态": "启用",
    }
    base.update(values)
    return sheet_row(inspectors_sheet.SPEC, **base)


def test_inspector_is_created_with_person_chat_identity_and_roles(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(tmp_path / "i.csv", spec.headers, [inspector_row(**{"角色": "执法检查人员、单位管理员"})]),
    )
    assert report.committed, report.text()
    with services.db.read() as session:
        identity = session.execute(
            select(ChatIdentity).where(ChatIdentity.staff_id == "test-inspector-1")
        ).scalar_one()
        person = session.get(Person, identity.person_id)
        inspector = session.execute(select(Inspector).where(Inspector.person_id == person.id)).scalar_one()
        assert person.role_names() == {"inspector", "unit_admin"}
        assert person.has_role("unit_admin", unit_id=inspector.unit_id)
        assert inspector.fields == ["市容环境卫生", "市政公用"] and inspector.assignable
        assert history.versions(session, "inspector", inspector.id)[0].after["roles"]


def test_inspector_of_an_unknown_unit_is_refused(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(tmp_path / "i.csv", spec.headers, [inspector_row(**{"所属单位": "不存在的执法队"})]),
    )
    assert not report.committed
    assert report.errors[0].column == "所属单位" and "不存在" in report.errors[0].message


def test_expired_certificate_marked_assignable_is_refused(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(tmp_path / "i.csv", spec.headers, [inspector_row(**{"证件有效期止": "2026-11-20"})]),
    )
    assert not report.committed
    problem = report.errors[0]
    assert problem.column == "可参与抽检" and "2026-11-20" in problem.message


def test_expired_certificate_not_marked_assignable_is_accepted(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(
            tmp_path / "i.csv",
            spec.headers,
            [inspector_row(**{"证件有效期止": "2026-11-20", "可参与抽检": "否"})],
        ),
    )
    assert report.committed


def test_auxiliary_cannot_be_assignable_or_hold_a_certificate(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(tmp_path / "i.csv", spec.headers, [inspector_row(**{"辅助人员": "是", "角色": ""})]),
    )
    columns = {problem.column for problem in report.errors}
    assert {"辅助人员", "可参与抽检"} <= columns


def test_certificate_number_held_by_someone_else_is_refused(services, clock, demo, tmp_path):
    with services.db.read() as session:
        taken = (
            session.execute(select(Inspector.cert_no).where(Inspector.cert_no.is_not(None))).scalars().first()
        )
    spec = inspectors_sheet.SPEC
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(
            tmp_path / "i.csv",
            spec.headers,
            [inspector_row(**{"执法证号": taken, "钉钉用户ID": "someone-new"})],
        ),
    )
    # A new staff id with a known certificate is the same person with a new chat account.
    assert report.committed and report.updated == 1


def test_reimport_of_an_inspector_updates_by_staff_id(services, clock, demo, tmp_path):
    spec = inspectors_sheet.SPEC
    run_import(services, clock, "inspectors", write_csv(tmp_path / "a.csv", spec.headers, [inspector_row()]))
    report = run_import(
        services,
        clock,
        "inspectors",
        write_csv(
            tmp_path / "b.csv",
            spec.headers,
            [inspector_row(**{"证件有效期止": "2030-06-30", "执法领域": "城乡规划"})],
        ),
    )
    assert report.updated == 1
    assert set(report.outcomes[0].changed) == {"证件有效期止", "执法领域"}


def item_row(**values):
    base = {
        "事项编码": "T-NEW-01",
        "事项名称": "测试事项",
        "实施依据": "《城市道路管理条例》",
        "主管单位": "市政公用监管处",
        "检查内容": "是否经批准；是否按批准的位置、面积占用",
    }
    base.update(values)
    return sheet_row(items_sheet.SPEC, **base)


def test_item_check_points_keep_their_enumeration_commas(services, clock, demo, tmp_path):
    report = run_import(
        services, clock, "items", write_csv(tmp_path / "i.csv", items_sheet.SPEC.headers, [item_row()])
    )
    assert report.committed
    with services.db.read() as session:
        item = session.execute(select(PowerItem).where(PowerItem.code == "T-NEW-01")).scalar_one()
    assert item.check_points == ["是否经批准", "是否按批准的位置、面积占用"]
    assert item.methods == ["on_site"]


def scenario_row(**values):
    base = {
        "场景名称": "测试场景",
        "牵头单位": "市容环境卫生监管处",
        "协同单位": "市政公用监管处",
        "检查事项": "ZF-SR-002、ZF-SZ-001",
    }
    base.update(values)
    return sheet_row(scenarios_sheet.SPEC, **base)


def test_scenario_item_not_in_the_power_list_is_refused(services, clock, demo, tmp_path):
    report = run_import(
        services,
        clock,
        "scenarios",
        write_csv(
            tmp_path / "s.csv",
            scenarios_sheet.SPEC.headers,
            [scenario_row(**{"检查事项": "ZF-SR-002、XX-FREE-999"})],
        ),
    )
    assert not report.committed
    problem = report.errors[0]
    assert problem.column == "检查事项" and "XX-FREE-999" in problem.message and "清单" in problem.message
    with services.db.read() as session:
        assert (
            session.execute(select(Scenario).where(Scenario.name == "测试场景")).scalar_one_or_none() is None
        )


def test_scenario_is_created_and_updated_with_co_units_items_and_contents(services, clock, demo, tmp_path):
    spec = scenarios_sheet.SPEC
    run_import(
        services,
        clock,
        "scenarios",
        write_csv(
            tmp_path / "a.csv",
            spec.headers,
            [scenario_row(**{"场景检查内容": "ZF-SZ-001：挖掘现场是否设置围挡"})],
        ),
    )
    report = run_import(
        services,
        clock,
        "scenarios",
        write_csv(
            tmp_path / "b.csv",
            spec.headers,
            [
                scenario_row(
                    **{
                        "检查事项": "ZF-SZ-001、ZF-SR-004、ZF-SR-002",
                        "场景检查内容": "ZF-SZ-001：挖掘现场是否设置围挡",
                    }
                )
            ],
        ),
    )
    assert report.updated == 1 and report.outcomes[0].changed == ("检查事项",)
    with services.db.read() as session:
        scenario = session.execute(select(Scenario).where(Scenario.name == "测试场景")).scalar_one()
        codes = [link.power_item.code for link in scenario.items]
        content = scenario.items[0].content
        versions = history.versions(session, "scenario", scenario.id)
    assert codes == ["ZF-SZ-001", "ZF-SR-004", "ZF-SR-002"]
    assert content == "挖掘现场是否设置围挡"
    assert len(versions) == 2 and len(versions[1].after["items"]) == 3


def test_theme_import_creates_open_themes_and_ignores_claim_columns(services, clock, demo, tmp_path):
    spec = themes_sheet.SPEC
    rows = [
        sheet_row(
            spec,
            **{
                "主题名称": "测试监管一件事",
                "级别": "本地",
                "检查场景": "人行道秩序联合检查",
                "完成期限": "2026-12-31",
                "认领单位": "市政公用监管处",
                "当前状态": "已认领",
            },
        )
    ]
    report = run_import(services, clock, "themes", write_csv(tmp_path / "t.csv", spec.headers, rows))
    assert report.committed
    with services.db.read() as session:
        theme = session.execute(select(Theme).where(Theme.name == "测试监管一件事")).scalar_one()
    assert theme.status == "open" and theme.claimed_by_unit_id is None and theme.level == "local"


def test_theme_with_unknown_scenario_is_refused(services, clock, demo, tmp_path):
    spec = themes_sheet.SPEC
    rows = [sheet_row(spec, **{"主题名称": "测试监管一件事", "检查场景": "没有这个场景"})]
    report = run_import(services, clock, "themes", write_csv(tmp_path / "t.csv", spec.headers, rows))
    assert not report.committed and report.errors[0].column == "检查场景"
