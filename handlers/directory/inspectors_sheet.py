"""执法检查人员 sheet: people, their chat identity, unit, certificate and roles.

Natural key: the DingTalk user id (钉钉用户ID); when that is new but the certificate number is
known, the row is the same person with a new chat id. BR-05: a row marked 可参与抽检 must carry a
certificate that is valid today, and auxiliaries (辅助人员) can never be marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dispatch import ROLE_LABELS
from handlers.directory.cells import Cells, keep_masked
from handlers.directory.importing import Importer, ImportJob, Outcome
from handlers.directory.orm_import import editor_for, report_change
from handlers.directory.roles import parse_role, set_roles
from handlers.directory.rules import CERT_STATUS_LABELS, certificate_problem, check_cert_no, parse_cert_status
from handlers.directory.sheets import Column, Row, SheetSpec
from storage.models.directory import Inspector
from storage.models.platform import ROLE_INSPECTOR, ChatIdentity, Person, Unit

MOBILE = re.compile(r"^[0-9+\- ]{5,20}$")
EXPIRY_WARNING_DAYS = 30

SPEC = SheetSpec(
    kind="inspectors",
    title="执法检查人员",
    entity_type="inspector",
    key_note="按钉钉用户ID匹配；钉钉用户ID是新的、但执法证号已登记时，视为同一人更换了钉钉账号。",
    columns=(
        Column("姓名", "name", required=True, mask="text"),
        Column("钉钉用户ID", "staff_id", required=True, note="浙政钉/钉钉通讯录中的用户ID（userid）"),
        Column("所属单位", "unit", required=True, note="须为已导入的单位名称"),
        Column("手机号", "mobile", note="导出时默认脱敏", mask="phone"),
        Column("执法证号", "cert_no", note="6 至 32 位字母、数字或连字符；辅助人员不填"),
        Column("证件有效期起", "cert_valid_from", note="如 2022-01-01"),
        Column("证件有效期止", "cert_valid_to", note="如 2027-12-31"),
        Column("证件状态", "cert_status", note="、".join(CERT_STATUS_LABELS.values()) + "；有证号不填为有效"),
        Column("执法领域", "field_tags", note="如 市容环境、市政公用，多个用顿号分隔"),
        Column("辅助人员", "auxiliary", note="是 或 否；辅助人员没有执法证，不能参与检查"),
        Column("可参与抽检", "assignable", note="是 或 否；填“是”须持有今天有效的执法证"),
        Column(
            "角色", "roles", note="、".join(ROLE_LABELS.values()) + "，多个用顿号分隔；不填为执法检查人员"
        ),
        Column("启用状态", "active", note="启用 或 停用（如调离）；不填为启用"),
    ),
)
HEADERS = {
    "name": "姓名",
    "staff_ids": "钉钉用户ID",
    "unit_id": "所属单位",
    "mobile": "手机号",
    "cert_no": "执法证号",
    "cert_valid_from": "证件有效期起",
    "cert_valid_to": "证件有效期止",
    "cert_status": "证件状态",
    "fields": "执法领域",
    "auxiliary": "辅助人员",
    "assignable": "可参与抽检",
    "roles": "角色",
    "active": "启用状态",
}
_INSPECTOR_FIELDS = {
    "cert_no": "cert_no",
    "cert_valid_from": "cert_valid_from",
    "cert_valid_to": "cert_valid_to",
    "cert_status": "cert_status",
    "fields": "field_tags",
    "auxiliary": "auxiliary",
    "assignable": "assignable",
    "active": "active",
}


class InspectorImporter(Importer):
    spec = SPEC

    def prepare(self, job: ImportJob) -> None:
        session = job.session
        self.units = {unit.name: unit for unit in session.execute(select(Unit)).scalars()}
        self.by_staff: dict[str, Person] = {
            identity.staff_id: identity.person
            for identity in session.execute(
                select(ChatIdentity).where(ChatIdentity.corp_id == job.corp_id)
            ).scalars()
        }
        inspectors = list(session.execute(select(Inspector)).scalars())
        self.by_person = {inspector.person_id: inspector for inspector in inspectors}
        self.by_cert = {inspector.cert_no: inspector for inspector in inspectors if inspector.cert_no}
        self.seen_staff: dict[str, int] = {}
        self.seen_cert: dict[str, int] = {}

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        unit_name = cells.text("unit", max_len=100)
        unit = self.units.get(unit_name) if unit_name else None
        if unit_name and unit is None:
            row.error(SPEC.column("unit"), f"单位「{unit_name}」不存在，请先导入单位")
        mobile = cells.phone("mobile", MOBILE)
        cert_text = cells.text("cert_no", max_len=40)
        cert_no = None
        if cert_text:
            cert_no, problem = check_cert_no(cert_text)
            if problem:
                row.error(SPEC.column("cert_no"), problem)
        valid_from = cells.date("cert_valid_from")
        valid_to = cells.date("cert_valid_to")
        status = cells.choice(
            "cert_status", parse_cert_status, "、".join(CERT_STATUS_LABELS.values()), default=None
        ) or ("valid" if cert_no else "none")
        auxiliary = cells.yes_no("auxiliary", default=False)
        roles = _roles(row, cells.items("roles"), auxiliary)
        active = cells.active()
        self._certificate_rules(row, cert_no, status, valid_from, valid_to, auxiliary)
        problem = certificate_problem(cert_no, status, valid_from, valid_to, job.today)
        if row.get("assignable") is None:
            assignable = not auxiliary and not problem
        else:
            assignable = cells.yes_no("assignable", default=False)
            if assignable and auxiliary:
                row.error(SPEC.column("assignable"), "辅助人员不能参与抽检（须持有执法证）")
            elif assignable and problem:
                row.error(SPEC.column("assignable"), f"{problem}，不能标为可参与抽检")
        if cert_no and valid_to and status == "valid" and not problem:
            left = (valid_to - job.today).days
            if left <= EXPIRY_WARNING_DAYS:
                row.warn(
                    SPEC.column("cert_valid_to"), f"执法证将于 {valid_to.isoformat()} 到期（还剩 {left} 天）"
                )
        values = {
            "name": cells.text("name", max_len=50),
            "staff_id": cells.text("staff_id", max_len=64),
            "unit": unit,
            "mobile": mobile,
            "cert_no": cert_no,
            "cert_valid_from": valid_from,
            "cert_valid_to": valid_to,
            "cert_status": status,
            "fields": cells.items("field_tags"),
            "auxiliary": auxiliary,
            "assignable": assignable,
            "roles": roles,
            "active": active,
        }
        self._duplicates(row, values["staff_id"], cert_no)
        return None if row.errors else values

    def _certificate_rules(
        self,
        row: Row,
        cert_no: str | None,
        status: str,
        valid_from: date | None,
        valid_to: date | None,
        auxiliary: bool,
    ) -> None:
        if auxiliary and cert_no:
            row.error(
                SPEC.column("auxiliary"), "辅助人员不应有执法证号；如已取得执法证，请把“辅助人员”改为“否”"
            )
        if cert_no and (valid_from is None or valid_to is None):
            column = "cert_valid_from" if valid_from is None else "cert_valid_to"
            row.error(SPEC.column(column), "有执法证号时必须填写证件有效期")
        if valid_from and valid_to and valid_from > valid_to:
            row.error(SPEC.column("cert_valid_to"), "有效期止早于有效期起")
        if not cert_no and status not in ("none",):
            row.error(SPEC.column("cert_status"), "没有执法证号时证件状态应为“无”")

    def _duplicates(self, row: Row, staff_id: str | None, cert_no: str | None) -> None:
        if row.errors:
            return
        if staff_id:
            if staff_id in self.seen_staff:
                row.error(SPEC.column("staff_id"), f"与第 {self.seen_staff[staff_id]} 行重复")
            else:
                self.seen_staff[staff_id] = row.number
        if cert_no:
            if cert_no in self.seen_cert:
                row.error(SPEC.column("cert_no"), f"与第 {self.seen_cert[cert_no]} 行重复")
            else:
                self.seen_cert[cert_no] = row.number

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        editor = editor_for(job)
        session = job.session
        for row, values in batch:
            person = self.by_staff.get(values["staff_id"])
            inspector = self.by_person.get(person.id) if person is not None else None
            rebind = False
            if inspector is None and person is None and values["cert_no"] in self.by_cert:
                inspector = self.by_cert[values["cert_no"]]
                person = inspector.person
                rebind = True
            holder = self.by_cert.get(values["cert_no"]) if values["cert_no"] else None
            if holder is not None and holder is not inspector:
                job.error(row.number, "执法证号", f"已登记给{holder.person.name}，同一执法证号不能给两个人")
                continue
            mobile, problem = keep_masked(values["mobile"], person.mobile if person is not None else None)
            if problem:
                job.error(row.number, "手机号", problem)
                continue
            values["mobile"] = mobile
            unit: Unit = values["unit"]
            if person is None:
                person = Person(
                    name=values["name"],
                    unit_id=unit.id,
                    mobile=values["mobile"],
                    active=True,
                    created_at=job.now,
                )
                session.add(person)
                session.flush()
                person.identities.append(
                    ChatIdentity(corp_id=job.corp_id, staff_id=values["staff_id"], nick=values["name"])
                )
                self.by_staff[values["staff_id"]] = person
            if inspector is None:
                _apply_person(person, values, unit, job.present | {"roles"})
                session.flush()
                inspector = Inspector(person_id=person.id, unit_id=unit.id, **_inspector_values(values))
                editor.create(inspector)
                self.by_person[person.id] = inspector
                if inspector.cert_no:
                    self.by_cert[inspector.cert_no] = inspector
                job.report.add_outcome(Outcome(row.number, "create", values["name"]))
                continue
            old_cert = inspector.cert_no
            with editor.change(inspector) as result:
                _apply_person(person, values, unit, job.present)
                if rebind:
                    _rebind(person, job.corp_id, values["staff_id"])
                    self.by_staff[values["staff_id"]] = person
                inspector.unit_id = unit.id
                for key, field in _INSPECTOR_FIELDS.items():
                    if field in job.present:
                        setattr(inspector, key, values[key])
            if old_cert != inspector.cert_no:
                self.by_cert.pop(old_cert or "", None)
                if inspector.cert_no:
                    self.by_cert[inspector.cert_no] = inspector
            report_change(job, row.number, values["name"], result, HEADERS)


def _inspector_values(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in _INSPECTOR_FIELDS}


def _roles(row: Row, words: list[str], auxiliary: bool) -> list[str]:
    if not words:
        return [] if auxiliary else [ROLE_INSPECTOR]
    roles = []
    for word in words:
        role = parse_role(word)
        if role is None:
            row.error(SPEC.column("roles"), f"「{word}」不是角色，应为：{'、'.join(ROLE_LABELS.values())}")
        elif role == ROLE_INSPECTOR and auxiliary:
            row.error(SPEC.column("roles"), "辅助人员不能担任执法检查人员")
        else:
            roles.append(role)
    return roles


def _apply_person(person: Person, values: dict[str, Any], unit: Unit, present: frozenset[str]) -> None:
    person.name = values["name"]
    person.unit_id = unit.id
    if "mobile" in present:
        person.mobile = values["mobile"]
    if "active" in present:
        person.active = values["active"]
    if "roles" in present:
        set_roles(person, values["roles"], unit.id)


def _rebind(person: Person, corp_id: str, staff_id: str) -> None:
    for identity in person.identities:
        if identity.corp_id == corp_id:
            identity.staff_id = staff_id
            return
    person.identities.append(ChatIdentity(corp_id=corp_id, staff_id=staff_id, nick=person.name))


def export_rows(session: Session) -> Iterator[list[Any]]:
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    for inspector in session.execute(select(Inspector).order_by(Inspector.id)).scalars():
        person = inspector.person
        staff = next((identity.staff_id for identity in person.identities), None)
        yield [
            person.name,
            staff,
            units.get(inspector.unit_id),
            person.mobile,
            inspector.cert_no,
            inspector.cert_valid_from,
            inspector.cert_valid_to,
            CERT_STATUS_LABELS.get(inspector.cert_status, inspector.cert_status),
            "、".join(inspector.fields),
            "是" if inspector.auxiliary else "否",
            "是" if inspector.assignable else "否",
            "、".join(ROLE_LABELS.get(role, role) for role in sorted({held.role for held in person.roles})),
            "启用" if inspector.active else "停用",
        ]
