"""检查场景 sheet: lead unit, co-units and items, with the BR-01 check on every item.

Natural key: the scenario name. Items are given by code and must be active entries of the power
list (清单之外无检查); co-units and the lead unit must exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.directory.cells import Cells, split_lines
from handlers.directory.importing import Importer, ImportJob, Outcome
from handlers.directory.orm_import import editor_for, report_change
from handlers.directory.rules import ENTITY_TYPES
from handlers.directory.service import ChangeResult, DirectoryEditor
from handlers.directory.sheets import Column, Row, SheetSpec
from storage.models.directory import PowerItem, Scenario, ScenarioItem, ScenarioUnit
from storage.models.platform import Unit

CONTENT_LINE = re.compile(r"^\s*([^:：\s]+)\s*[:：]\s*(.+?)\s*$")

SPEC = SheetSpec(
    kind="scenarios",
    title="检查场景",
    entity_type="scenario",
    key_note="按场景名称匹配：已有的更新，没有的新增。检查事项须已在检查事项清单中（清单之外无检查）。",
    columns=(
        Column("场景名称", "name", required=True),
        Column("牵头单位", "lead_unit", required=True, note="须为已导入的单位名称"),
        Column("协同单位", "co_units", note="多个用顿号分隔"),
        Column("检查事项", "items", required=True, note="事项编码，多个用顿号分隔，须已在检查事项清单中"),
        Column(
            "场景检查内容",
            "contents",
            note="可选：每行“事项编码：本场景的检查内容”；不填则用事项本身的检查内容",
        ),
        Column("适用主体类型", "object_types", note="、".join(ENTITY_TYPES) + "，多个用顿号分隔；不填为全部"),
        Column("适用行业", "industries", note="多个用顿号分隔；不填为全部"),
        Column("场景说明", "description"),
        Column("启用状态", "active", note="启用 或 停用；不填为启用"),
    ),
)
HEADERS = {
    "lead_unit_id": "牵头单位",
    "co_unit_ids": "协同单位",
    "items": "检查事项",
    "object_types": "适用主体类型",
    "industries": "适用行业",
    "description": "场景说明",
    "active": "启用状态",
}


class ScenarioImporter(Importer):
    spec = SPEC

    def prepare(self, job: ImportJob) -> None:
        session = job.session
        self.units = {unit.name: unit for unit in session.execute(select(Unit)).scalars()}
        self.items = {item.code: item for item in session.execute(select(PowerItem)).scalars()}
        self.scenarios = {s.name: s for s in session.execute(select(Scenario)).scalars()}
        self.seen: dict[str, int] = {}

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        name = cells.text("name", max_len=100)
        lead_name = cells.text("lead_unit", max_len=100)
        lead = self.units.get(lead_name) if lead_name else None
        if lead_name and lead is None:
            row.error(SPEC.column("lead_unit"), f"单位「{lead_name}」不存在，请先导入单位")
        co_units: list[Unit] = []
        for unit_name in cells.items("co_units"):
            unit = self.units.get(unit_name)
            if unit is None:
                row.error(SPEC.column("co_units"), f"单位「{unit_name}」不存在，请先导入单位")
            elif lead is not None and unit.id == lead.id:
                row.warn(SPEC.column("co_units"), f"「{unit_name}」是牵头单位，不再列为协同单位")
            else:
                co_units.append(unit)
        items = resolve_items(row, cells.items("items"), self.items)
        if "items" in job.present and not items and not row.errors:
            row.error(SPEC.column("items"), "至少要有一个检查事项")
        contents = _contents(row, row.text("contents"), {item.code for item in items})
        object_types = cells.items("object_types")
        for word in object_types:
            if word not in ENTITY_TYPES:
                row.error(
                    SPEC.column("object_types"), f"「{word}」不是主体类型，应为：{'、'.join(ENTITY_TYPES)}"
                )
        if lead is not None and not row.errors:
            involved = {lead.id, *(unit.id for unit in co_units)}
            for item in items:
                if item.owner_unit_id not in involved:
                    row.warn(
                        SPEC.column("items"),
                        f"事项 {item.code} 的主管单位不是本场景的牵头或协同单位，检查时无人负责该事项，请核对",
                    )
        if name and not row.errors:
            if name in self.seen:
                row.error(SPEC.column("name"), f"与第 {self.seen[name]} 行重复")
            else:
                self.seen[name] = row.number
        if row.errors:
            return None
        return {
            "name": name,
            "lead": lead,
            "co_units": co_units,
            "items": items,
            "contents": contents,
            "object_types": object_types,
            "industries": cells.items("industries"),
            "description": cells.text("description", max_len=2000),
            "active": cells.active(),
        }

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        editor = editor_for(job)
        for row, values in batch:
            scenario = self.scenarios.get(values["name"])
            if scenario is None:
                scenario = Scenario(
                    name=values["name"],
                    lead_unit_id=values["lead"].id,
                    object_types=values["object_types"],
                    industries=values["industries"],
                    description=values["description"],
                    active=values["active"],
                )
                apply_links(
                    scenario, values["co_units"], values["items"], values["contents"], replace_contents=True
                )
                editor.create(scenario)
                self.scenarios[scenario.name] = scenario
                job.report.add_outcome(Outcome(row.number, "create", scenario.name))
                continue
            result = update_scenario(editor, scenario, values, job.present)
            report_change(job, row.number, scenario.name, result, HEADERS)


def resolve_items(row: Row, codes: list[str], known: dict[str, PowerItem]) -> list[PowerItem]:
    """BR-01: every item of a scenario must be an active entry of the power list."""
    items = []
    for code in codes:
        item = known.get(code)
        if item is None:
            row.error("检查事项", f"「{code}」不在检查事项清单中（清单之外无检查），请先导入该事项")
        elif not item.active:
            row.error("检查事项", f"「{code}」已停用，不能用于检查场景")
        else:
            items.append(item)
    return items


def _contents(row: Row, text: str | None, codes: set[str]) -> dict[str, str]:
    contents: dict[str, str] = {}
    for line in split_lines(text):
        match = CONTENT_LINE.match(line)
        if match is None:
            row.error("场景检查内容", f"「{line}」应写成“事项编码：检查内容”")
            continue
        code, content = match.group(1), match.group(2)
        if code not in codes:
            row.error("场景检查内容", f"事项「{code}」不在本场景的检查事项中")
            continue
        contents[code] = content
    return contents


def apply_links(
    scenario: Scenario,
    co_units: list[Unit],
    items: list[PowerItem],
    contents: dict[str, str],
    *,
    replace_contents: bool,
) -> None:
    """Make the scenario's co-units and items equal to the given lists, keeping rows that stay."""
    wanted_units = [unit.id for unit in co_units]
    scenario.co_units[:] = [link for link in scenario.co_units if link.unit_id in wanted_units]
    have_units = {link.unit_id for link in scenario.co_units}
    for unit_id in wanted_units:
        if unit_id not in have_units:
            scenario.co_units.append(ScenarioUnit(unit_id=unit_id))
    kept = {
        link.power_item_id: link for link in scenario.items if link.power_item_id in {i.id for i in items}
    }
    links = []
    for position, item in enumerate(items):
        link = kept.get(item.id) or ScenarioItem(power_item_id=item.id)
        link.position = position
        if item.code in contents:
            link.content = contents[item.code]
        elif replace_contents:
            link.content = None
        links.append(link)
    scenario.items[:] = links


def update_scenario(
    editor: DirectoryEditor, scenario: Scenario, values: dict[str, Any], present: frozenset[str]
) -> ChangeResult:
    with editor.change(scenario) as result:
        if "lead_unit" in present and values["lead"] is not None:
            scenario.lead_unit_id = values["lead"].id
        for field in ("object_types", "industries", "description", "active"):
            if field in present:
                setattr(scenario, field, values[field])
        co_units = values["co_units"] if "co_units" in present else [link.unit for link in scenario.co_units]
        items = values["items"] if "items" in present else [link.power_item for link in scenario.items]
        apply_links(scenario, co_units, items, values["contents"], replace_contents="contents" in present)
    return result


def export_rows(session: Session) -> Iterator[list[Any]]:
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    for scenario in session.execute(select(Scenario).order_by(Scenario.id)).scalars():
        yield [
            scenario.name,
            units.get(scenario.lead_unit_id),
            "、".join(units.get(link.unit_id, "") for link in scenario.co_units),
            "、".join(link.power_item.code for link in scenario.items),
            "\n".join(f"{link.power_item.code}：{link.content}" for link in scenario.items if link.content),
            "、".join(scenario.object_types),
            "、".join(scenario.industries),
            scenario.description,
            "启用" if scenario.active else "停用",
        ]
