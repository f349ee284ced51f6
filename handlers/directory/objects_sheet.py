"""检查对象 sheet: columns, the bulk importer and the export rows.

Objects are the big table (a county has tens of thousands), so this importer does not use the ORM:
each batch looks up existing rows by code in one query, then inserts new rows with one multi-row
INSERT ... RETURNING, updates changed rows with one executemany UPDATE, and appends their
versions with one multi-row INSERT. Natural key: the credit code, or the legacy registration
number for the few 个体工商户 that still have only that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from handlers.directory import uscc
from handlers.directory.cells import Cells, keep_masked
from handlers.directory.importing import Importer, ImportJob, Outcome
from handlers.directory.regions import LISHUI_REGIONS, parse_region, region_label
from handlers.directory.rules import (
    ENTITY_TYPES,
    FLAG_LABELS,
    REGISTRATION_STATUSES,
    parse_entity_type,
    parse_registration_status,
    parse_risk_class,
)
from handlers.directory.sheets import Column, Row, SheetSpec
from handlers.directory.snapshots import row_snapshot
from storage import history
from storage.models.directory import OBJECT_FLAGS, InspectionObject
from storage.models.platform import Unit

# Column headers of the flags, as the bureau's sheets name them (shorter than the list names).
FLAG_HEADERS = {
    "key_supervision": "重点监管",
    "abnormal": "经营异常名录",
    "dishonest": "严重违法失信",
    "no_disturb": "无事不扰",
}
PHONE = re.compile(r"^[0-9+()（）\- 转]{5,30}$")

SPEC = SheetSpec(
    kind="objects",
    title="检查对象",
    entity_type="object",
    key_note="按统一社会信用代码（或旧版 15 位注册号）匹配：已有的更新，没有的新增。",
    columns=(
        Column(
            "统一社会信用代码",
            "code",
            required=True,
            note="18 位统一社会信用代码；尚未换证的个体工商户可填 15 位注册号",
            aliases=("统一社会信用代码/注册号", "信用代码/注册号"),
        ),
        Column("名称", "name", required=True, note="市场主体名称", aliases=("主体名称", "企业名称")),
        Column("主体类型", "entity_type", note="、".join(ENTITY_TYPES) + "；不填为企业"),
        Column(
            "法定代表人",
            "legal_rep",
            note="法定代表人或负责人、经营者",
            aliases=("法定代表人（负责人）",),
            mask="text",
        ),
        Column(
            "住所",
            "address",
            note="住所或经营场所",
            aliases=("住所（经营场所）", "经营场所", "地址"),
            mask="text",
        ),
        Column("联系人", "contact_name", mask="text"),
        Column("联系电话", "contact_phone", note="手机或座机号码；导出时默认脱敏", mask="phone"),
        Column("行业", "industry", note="如 餐饮服务、食品销售"),
        Column(
            "所属区域",
            "region",
            required=True,
            note="、".join(LISHUI_REGIONS.values()) + "；也可填 6 位行政区划代码",
        ),
        Column("管辖单位", "jurisdiction_unit", note="须为已导入的单位名称"),
        Column("登记状态", "registration_status", note="、".join(REGISTRATION_STATUSES) + "；不填为存续"),
        Column("风险等级", "risk_class", note="A、B、C、D；不填为未评定"),
        *(
            Column(
                f"{FLAG_HEADERS[flag]}起止",
                flag,
                note=f"列入{label}的起止日期，如 2026-01-01至2026-12-31；长期有效只填开始日期",
                aliases=(f"{label}起止",),
            )
            for flag, label in FLAG_LABELS.items()
        ),
        Column("启用状态", "active", note="启用 或 停用；不填为启用。停用的对象不再参与抽查，但不会删除"),
    ),
)

# Sheet field -> model columns it sets (the code column is the key, never "changed").
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "entity_type": ("entity_type",),
    "legal_rep": ("legal_rep",),
    "address": ("address",),
    "contact_name": ("contact_name",),
    "contact_phone": ("contact_phone",),
    "industry": ("industry",),
    "region": ("region_code",),
    "jurisdiction_unit": ("jurisdiction_unit_id",),
    "registration_status": ("registration_status",),
    "risk_class": ("risk_class",),
    **{flag: (f"{flag}_from", f"{flag}_to") for flag in OBJECT_FLAGS},
    "active": ("active",),
}
TABLE = InspectionObject.__table__
_DATA_COLUMNS = [c.name for c in TABLE.columns if c.name != "id"]
# Plain executemany: with RETURNING + sort_by_parameter_order, SQLite falls back to one INSERT per
# row. New ids are read back by code instead (one query per batch; codes are unique).
_INSERT = insert(TABLE)
_UPDATE = (
    update(TABLE)
    .where(TABLE.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in _DATA_COLUMNS})
)


class ObjectImporter(Importer):
    spec = SPEC
    batch_size = 2000

    def prepare(self, job: ImportJob) -> None:
        self.units = dict(job.session.execute(select(Unit.name, Unit.id)).all())
        self.seen: dict[str, int] = {}
        self.columns = [name for field in job.present for name in FIELD_COLUMNS.get(field, ())]

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        values: dict[str, Any] = {"uscc": None, "legacy_reg_no": None}
        code_column = SPEC.column("code")
        raw = row.text("code")
        code = None
        if raw is None:
            row.error(code_column, "不能为空")
        else:
            checked = uscc.validate(raw)
            if checked.error:
                row.error(code_column, checked.error)
            else:
                code = checked.value
                values["legacy_reg_no" if checked.legacy else "uscc"] = code
                if checked.warning:
                    row.warn(code_column, checked.warning)
        values["name"] = cells.text("name", max_len=200)
        values["entity_type"] = cells.choice(
            "entity_type", parse_entity_type, "、".join(ENTITY_TYPES), default="企业"
        )
        values["legal_rep"] = cells.text("legal_rep", max_len=50)
        values["address"] = cells.text("address", max_len=300)
        values["contact_name"] = cells.text("contact_name", max_len=50)
        values["contact_phone"] = cells.phone("contact_phone", PHONE)
        values["industry"] = cells.text("industry", max_len=60)
        values["region_code"] = cells.choice("region", parse_region, "丽水市所辖区县名称或 6 位行政区划代码")
        unit_name = cells.text("jurisdiction_unit", max_len=100)
        values["jurisdiction_unit_id"] = None
        if unit_name is not None:
            unit_id = self.units.get(unit_name)
            if unit_id is None:
                row.error(SPEC.column("jurisdiction_unit"), f"单位「{unit_name}」不存在，请先导入单位")
            values["jurisdiction_unit_id"] = unit_id
        values["registration_status"] = cells.choice(
            "registration_status", parse_registration_status, "、".join(REGISTRATION_STATUSES), default="存续"
        )
        risk_text = row.text("risk_class")
        values["risk_class"] = None
        if risk_text is not None:
            risk, problem = parse_risk_class(risk_text)
            if problem:
                row.error(SPEC.column("risk_class"), problem)
            values["risk_class"] = risk
        for flag in OBJECT_FLAGS:
            values[f"{flag}_from"], values[f"{flag}_to"] = cells.date_range(flag)
        values["active"] = cells.active()
        self._cross_checks(row, values, code, job.today)
        if code is not None and not row.errors:
            first = self.seen.get(code)
            if first is not None:
                row.error(code_column, f"与第 {first} 行重复（同一文件中同一代码只能出现一次）")
            else:
                self.seen[code] = row.number
        return None if row.errors else values

    def _cross_checks(self, row: Row, values: dict[str, Any], code: str | None, today: date) -> None:
        category = uscc.market_category(code or "")
        if category and values["entity_type"] in ENTITY_TYPES[:3] and category != values["entity_type"]:
            row.warn(
                SPEC.column("entity_type"),
                f"主体类型为{values['entity_type']}，但信用代码第 2 位表示{category}，请核对",
            )
        if _flag_on(values, "no_disturb", today) and _flag_on(values, "key_supervision", today):
            row.warn(SPEC.column("no_disturb"), "同时列入“无事不扰”和“重点监管”，请核对")

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        session = job.session
        existing = _existing(session, batch)
        inserts: list[tuple[Row, dict[str, Any]]] = []
        updates: list[tuple[Row, dict[str, Any], dict[str, Any], tuple[str, ...]]] = []
        for row, values in batch:
            key = values["uscc"] or values["legacy_reg_no"]
            old = existing.get(key)
            phone, problem = keep_masked(values["contact_phone"], old["contact_phone"] if old else None)
            if problem:
                job.error(row.number, SPEC.column("contact_phone").header, problem)
                continue
            values["contact_phone"] = phone
            if old is None:
                new = {name: values.get(name) for name in _DATA_COLUMNS}
                new["updated_at"] = job.now
                inserts.append((row, new))
                continue
            changed = [name for name in self.columns if values[name] != old[name]]
            if not changed:
                job.report.add_outcome(Outcome(row.number, "unchanged", old["name"]))
                continue
            new = dict(old)
            new.update({name: values[name] for name in changed})
            new["updated_at"] = job.now
            headers = tuple(dict.fromkeys(_header_of(name) for name in changed))
            updates.append((row, old, new, headers))
        entries: list[history.VersionEntry] = []
        if inserts:
            session.execute(_INSERT, [values for _, values in inserts])
            ids = _ids_by_code(session, [values for _, values in inserts])
            for row, values in inserts:
                new_id = ids[values["uscc"] or values["legacy_reg_no"]]
                values["id"] = new_id
                entries.append(
                    history.VersionEntry("object", new_id, "create", {}, row_snapshot(TABLE, values), 1)
                )
                job.report.add_outcome(Outcome(row.number, "create", values["name"]))
        if updates:
            session.execute(
                _UPDATE,
                [{f"b_{name}": new[name] for name in ["id", *_DATA_COLUMNS]} for _, _, new, _ in updates],
            )
            for row, old, new, headers in updates:
                change = _change_kind(old, new)
                entries.append(
                    history.VersionEntry(
                        "object", new["id"], change, row_snapshot(TABLE, old), row_snapshot(TABLE, new)
                    )
                )
                job.report.add_outcome(Outcome(row.number, "update", new["name"], headers))
        history.record_many(session, entries, changed_by=job.actor, reason=job.reason, at=job.now)


def _existing(session: Session, batch: list[tuple[Row, Any]]) -> dict[str, dict[str, Any]]:
    codes = [values["uscc"] for _, values in batch if values["uscc"]]
    legacy = [values["legacy_reg_no"] for _, values in batch if values["legacy_reg_no"]]
    found: dict[str, dict[str, Any]] = {}
    conditions = []
    if codes:
        conditions.append(TABLE.c.uscc.in_(codes))
    if legacy:
        conditions.append(TABLE.c.legacy_reg_no.in_(legacy))
    for mapping in session.execute(select(TABLE).where(or_(*conditions))).mappings():
        row = dict(mapping)
        found[row["uscc"] or row["legacy_reg_no"]] = row
    return found


def _ids_by_code(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    codes = [row["uscc"] for row in rows if row["uscc"]]
    legacy = [row["legacy_reg_no"] for row in rows if row["legacy_reg_no"]]
    found: dict[str, int] = {}
    if codes:
        found.update(session.execute(select(TABLE.c.uscc, TABLE.c.id).where(TABLE.c.uscc.in_(codes))).all())
    if legacy:
        found.update(
            session.execute(
                select(TABLE.c.legacy_reg_no, TABLE.c.id).where(TABLE.c.legacy_reg_no.in_(legacy))
            ).all()
        )
    return found


def _change_kind(old: dict[str, Any], new: dict[str, Any]) -> str:
    if old["active"] and not new["active"]:
        return "deactivate"
    if not old["active"] and new["active"]:
        return "reactivate"
    return "update"


def _header_of(column_name: str) -> str:
    for field, columns in FIELD_COLUMNS.items():
        if column_name in columns:
            return SPEC.column(field).header
    return column_name


def _flag_on(values: dict[str, Any], flag: str, today: date) -> bool:
    start, end = values[f"{flag}_from"], values[f"{flag}_to"]
    return start is not None and start <= today and (end is None or today <= end)


def format_range(start: date | None, end: date | None) -> str | None:
    if start is None:
        return None
    return f"{start.isoformat()}至{end.isoformat()}" if end else f"{start.isoformat()}至"


def export_rows(session: Session) -> Iterator[list[Any]]:
    """Rows in template column order, streamed from the database in id order."""
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    result = session.execute(select(TABLE).order_by(TABLE.c.id).execution_options(yield_per=2000)).mappings()
    for row in result:
        yield [
            row["uscc"] or row["legacy_reg_no"],
            row["name"],
            row["entity_type"],
            row["legal_rep"],
            row["address"],
            row["contact_name"],
            row["contact_phone"],
            row["industry"],
            region_label(row["region_code"]),
            units.get(row["jurisdiction_unit_id"]) if row["jurisdiction_unit_id"] else None,
            row["registration_status"],
            row["risk_class"],
            *(format_range(row[f"{flag}_from"], row[f"{flag}_to"]) for flag in OBJECT_FLAGS),
            "启用" if row["active"] else "停用",
        ]
