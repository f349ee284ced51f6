"""检查事项 sheet: the power list (权力事项清单) every scenario item must come from (BR-01).

Natural key: the item code.
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
from handlers.directory.rules import METHOD_WORDS, parse_method
from handlers.directory.sheets import Column, Row, SheetSpec
from storage.models.directory import METHOD_LABELS, PowerItem, Scenario, ScenarioItem
from storage.models.platform import Unit

ITEM_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{1,39}$")
METHODS_TEXT = "、".join(METHOD_LABELS.values())

SPEC = SheetSpec(
    kind="items",
    title="检查事项",
    entity_type="item",
    key_note="按事项编码匹配：已有的更新，没有的新增。",
    columns=(
        Column("事项编码", "code", required=True, note="权力事项清单中的编码，字母、数字、点或连字符"),
        Column("事项名称", "name", required=True),
        Column("实施依据", "legal_basis", required=True, note="法律、法规、规章名称及条款"),
        Column("主管单位", "owner_unit", required=True, note="须为已导入的单位名称"),
        Column("默认检查方式", "default_method", note=f"{METHODS_TEXT}；不填为实地核查"),
        Column("可用检查方式", "methods", note="可填多个，用顿号分隔；不填同默认检查方式"),
        Column("检查内容", "check_points", note="每条检查内容一行，或用分号分隔"),
        Column("所需执法领域", "field_tags", note="检查人员须具备的执法领域，多个用顿号分隔"),
        Column("违反条款", "provision", note="发现问题时所违反的条款（用于责令改正通知书）"),
        Column("责令改正依据", "order_basis"),
        Column(
            "默认整改期限（天）",
            "rectify_days_default",
            aliases=("默认整改期限",),
            note="1 至 365；不填为 15",
        ),
        Column(
            "最短整改期限（天）", "rectify_days_min", aliases=("最短整改期限",), note="1 至 365；不填为 3"
        ),
        Column("启用状态", "active", note="启用 或 停用；不填为启用"),
    ),
)
HEADERS = {
    "name": "事项名称",
    "legal_basis": "实施依据",
    "owner_unit_id": "主管单位",
    "default_method": "默认检查方式",
    "methods": "可用检查方式",
    "check_points": "检查内容",
    "field_tags": "所需执法领域",
    "provision": "违反条款",
    "order_basis": "责令改正依据",
    "rectify_days_default": "默认整改期限（天）",
    "rectify_days_min": "最短整改期限（天）",
    "active": "启用状态",
}
_FIELD_OF = {
    "name": "name",
    "legal_basis": "legal_basis",
    "owner_unit_id": "owner_unit",
    "default_method": "default_method",
    "methods": "methods",
    "check_points": "check_points",
    "field_tags": "field_tags",
    "provision": "provision",
    "order_basis": "order_basis",
    "rectify_days_default": "rectify_days_default",
    "rectify_days_min": "rectify_days_min",
    "active": "active",
}


class ItemImporter(Importer):
    spec = SPEC

    def prepare(self, job: ImportJob) -> None:
        self.units = dict(job.session.execute(select(Unit.name, Unit.id)).all())
        self.items = {item.code: item for item in job.session.execute(select(PowerItem)).scalars()}
        self.seen: dict[str, int] = {}

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        code = cells.text("code", max_len=40)
        if code and not ITEM_CODE.fullmatch(code):
            row.error(SPEC.column("code"), "编码只能包含字母、数字、点、下划线或连字符，2 至 40 位")
        owner = cells.text("owner_unit", max_len=100)
        owner_id = self.units.get(owner) if owner else None
        if owner and owner_id is None:
            row.error(SPEC.column("owner_unit"), f"单位「{owner}」不存在，请先导入单位")
        default_method = cells.choice("default_method", parse_method, METHODS_TEXT, default="on_site")
        methods = []
        for word in cells.items("methods"):
            method = parse_method(word)
            if method is None:
                row.error(SPEC.column("methods"), f"「{word}」不是检查方式，应为：{'、'.join(METHOD_WORDS)}")
            else:
                methods.append(method)
        if default_method and default_method not in methods:
            methods.insert(0, default_method)
        days_default = cells.integer("rectify_days_default", low=1, high=365, default=15)
        days_min = cells.integer("rectify_days_min", low=1, high=365, default=3)
        if days_min > days_default:
            row.error(SPEC.column("rectify_days_min"), "最短整改期限不能长于默认整改期限")
        check_points_text = row.text("check_points")
        values = {
            "code": code,
            "name": cells.text("name", max_len=200),
            "legal_basis": cells.text("legal_basis", max_len=4000),
            "owner_unit_id": owner_id,
            "default_method": default_method,
            "methods": methods,
            "check_points": split_lines(check_points_text),
            "field_tags": cells.items("field_tags"),
            "provision": cells.text("provision", max_len=4000),
            "order_basis": cells.text("order_basis", max_len=4000),
            "rectify_days_default": days_default,
            "rectify_days_min": days_min,
            "active": cells.active(),
        }
        if code and not row.errors:
            if code in self.seen:
                row.error(SPEC.column("code"), f"与第 {self.seen[code]} 行重复")
            else:
                self.seen[code] = row.number
        return None if row.errors else values

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        editor = editor_for(job)
        for row, values in batch:
            code = values.pop("code")
            item = self.items.get(code)
            if item is None:
                item = PowerItem(code=code, **values)
                editor.create(item)
                self.items[code] = item
                job.report.add_outcome(Outcome(row.number, "create", f"{code} {item.name}"))
                continue
            fields = {key: value for key, value in values.items() if _FIELD_OF[key] in job.present}
            if fields.get("active") is False and item.active:
                _warn_if_used(job, row, item)
            with editor.change(item) as result:
                for key, value in fields.items():
                    setattr(item, key, value)
            report_change(job, row.number, f"{code} {item.name}", result, HEADERS)


def _warn_if_used(job: ImportJob, row: Row, item: PowerItem) -> None:
    names = list(
        job.session.execute(
            select(Scenario.name)
            .join(ScenarioItem, ScenarioItem.scenario_id == Scenario.id)
            .where(ScenarioItem.power_item_id == item.id, Scenario.active.is_(True))
        ).scalars()
    )
    if names:
        job.warn(
            row.number,
            "启用状态",
            f"该事项仍在场景「{'、'.join(names)}」中使用，停用后这些场景不能再用它发起检查",
        )


def export_rows(session: Session) -> Iterator[list[Any]]:
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    for item in session.execute(select(PowerItem).order_by(PowerItem.id)).scalars():
        yield [
            item.code,
            item.name,
            item.legal_basis,
            units.get(item.owner_unit_id),
            METHOD_LABELS.get(item.default_method, item.default_method),
            "、".join(METHOD_LABELS.get(m, m) for m in item.methods),
            "\n".join(item.check_points),
            "、".join(item.field_tags),
            item.provision,
            item.order_basis,
            item.rectify_days_default,
            item.rectify_days_min,
            "启用" if item.active else "停用",
        ]
