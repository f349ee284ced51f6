"""单位 sheet: departments, squads and the outside bodies findings are referred to.

Natural key: the unit's full name. A parent must already exist, or come earlier in the same file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.directory.cells import Cells
from handlers.directory.importing import Importer, ImportJob, Outcome
from handlers.directory.orm_import import editor_for, report_change
from handlers.directory.rules import UNIT_KINDS, parse_unit_kind
from handlers.directory.sheets import Column, Row, SheetSpec
from storage.models.platform import ChatIdentity, Person, Unit

REGION_CODE = re.compile(r"^\d{6}$")

SPEC = SheetSpec(
    kind="units",
    title="单位",
    entity_type="unit",
    key_note="按单位名称匹配：已有的更新，没有的新增。上级单位须已存在，或在本表中排在前面。",
    columns=(
        Column("单位名称", "name", required=True, note="全称，如 丽水市综合行政执法局莲都执法大队"),
        Column("简称", "short_name", required=True, note="用于文书编号，如 丽综执"),
        Column("类型", "kind", note="、".join(UNIT_KINDS.values()) + "；不填为处室"),
        Column("上级单位", "parent", note="上级单位名称"),
        Column("行政区划代码", "region_code", note="6 位代码，如 331102"),
        Column("地址", "address", note="印在文书上的单位地址"),
        Column("电话", "phone", note="印在文书上的联系电话"),
        Column("审批人钉钉用户ID", "approver", note="审批本单位检查任务的负责人或局领导"),
        Column("启用状态", "active", note="启用 或 停用；不填为启用"),
    ),
)
HEADERS = {
    "name": "单位名称",
    "short_name": "简称",
    "kind": "类型",
    "parent_id": "上级单位",
    "region_code": "行政区划代码",
    "address": "地址",
    "phone": "电话",
    "approver_person_id": "审批人钉钉用户ID",
    "active": "启用状态",
}


class UnitImporter(Importer):
    spec = SPEC

    def prepare(self, job: ImportJob) -> None:
        self.units = {unit.name: unit for unit in job.session.execute(select(Unit)).scalars()}
        self.seen: dict[str, int] = {}

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        values: dict[str, Any] = {
            "name": cells.text("name", max_len=100),
            "short_name": cells.text("short_name", max_len=40),
            "kind": cells.choice("kind", parse_unit_kind, "、".join(UNIT_KINDS.values()), default="dept"),
            "parent": cells.text("parent", max_len=100),
            "region_code": cells.text("region_code", max_len=6),
            "address": cells.text("address", max_len=200),
            "phone": cells.text("phone", max_len=30),
            "approver": cells.text("approver", max_len=64),
            "active": cells.active(),
        }
        if values["region_code"] and not REGION_CODE.fullmatch(values["region_code"]):
            row.error(SPEC.column("region_code"), "应为 6 位数字")
        if values["name"] and values["parent"] == values["name"]:
            row.error(SPEC.column("parent"), "上级单位不能是本单位")
        if values["name"] and not row.errors:
            if values["name"] in self.seen:
                row.error(SPEC.column("name"), f"与第 {self.seen[values['name']]} 行重复")
            else:
                self.seen[values["name"]] = row.number
        return None if row.errors else values

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        editor = editor_for(job)
        for row, values in batch:
            fields: dict[str, Any] = {
                "short_name": values["short_name"],
                "kind": values["kind"],
                "region_code": values["region_code"],
                "address": values["address"],
                "phone": values["phone"],
                "active": values["active"],
            }
            unit = self.units.get(values["name"])
            parent_id = None
            if values["parent"]:
                parent = self.units.get(values["parent"])
                if parent is None:
                    job.error(
                        row.number, "上级单位", f"「{values['parent']}」不存在（如在本表中，请放在本行之前）"
                    )
                    continue
                if unit is not None and _is_descendant(parent, unit, self.units):
                    job.error(row.number, "上级单位", f"「{values['parent']}」是本单位的下级，不能作为上级")
                    continue
                parent_id = parent.id
            approver_id = None
            if values["approver"]:
                approver_id = _person_id(job, values["approver"])
                if approver_id is None:
                    # Units are loaded before people; the approver is set when the sheet is imported again.
                    job.warn(
                        row.number,
                        "审批人钉钉用户ID",
                        f"找不到钉钉用户ID为「{values['approver']}」的人员，暂不设置审批人；"
                        "导入人员后可再导入一次单位表",
                    )
            fields["parent_id"] = parent_id
            fields["approver_person_id"] = approver_id
            fields = {key: value for key, value in fields.items() if _present(key, job)}
            if values["approver"] and approver_id is None and unit is not None:
                fields.pop("approver_person_id", None)  # keep the one already set
            if unit is None:
                unit = Unit(name=values["name"], **{"kind": "dept", "active": True, **fields})
                editor.create(unit)
                self.units[unit.name] = unit
                job.report.add_outcome(Outcome(row.number, "create", unit.name))
                continue
            with editor.change(unit) as result:
                for key, value in fields.items():
                    setattr(unit, key, value)
            report_change(job, row.number, unit.name, result, HEADERS)


_FIELD_OF = {
    "short_name": "short_name",
    "kind": "kind",
    "region_code": "region_code",
    "address": "address",
    "phone": "phone",
    "active": "active",
    "parent_id": "parent",
    "approver_person_id": "approver",
}


def _present(model_field: str, job: ImportJob) -> bool:
    return _FIELD_OF[model_field] in job.present


def _is_descendant(candidate: Unit, ancestor: Unit, units: dict[str, Unit]) -> bool:
    by_id = {unit.id: unit for unit in units.values()}
    current: Unit | None = candidate
    for _ in range(50):
        if current is None:
            return False
        if current.id == ancestor.id:
            return True
        current = by_id.get(current.parent_id) if current.parent_id else None
    return True


def _person_id(job: ImportJob, staff_id: str) -> int | None:
    return job.session.execute(
        select(Person.id)
        .join(ChatIdentity, ChatIdentity.person_id == Person.id)
        .where(ChatIdentity.corp_id == job.corp_id, ChatIdentity.staff_id == staff_id)
    ).scalar_one_or_none()


def export_rows(session: Session) -> Iterator[list[Any]]:
    units = list(session.execute(select(Unit).order_by(Unit.id)).scalars())
    names = {unit.id: unit.name for unit in units}
    staff = dict(
        session.execute(select(ChatIdentity.person_id, ChatIdentity.staff_id).order_by(ChatIdentity.id)).all()
    )
    for unit in units:
        yield [
            unit.name,
            unit.short_name,
            UNIT_KINDS.get(unit.kind, unit.kind),
            names.get(unit.parent_id) if unit.parent_id else None,
            unit.region_code,
            unit.address,
            unit.phone,
            staff.get(unit.approver_person_id) if unit.approver_person_id else None,
            "启用" if unit.active else "停用",
        ]
