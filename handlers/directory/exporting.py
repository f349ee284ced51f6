"""Exports and templates of the directory sheets.

Personal data (contact phones, and any resident ID number or mobile inside free text) is masked
unless ``unmasked`` is asked for by a system administrator named with ``--by``; that check is made
here, not in the CLI parser, and both the refusal and the export itself are audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from handlers.directory.sheets import SheetSpec
from handlers.directory.writers import cell, write_table
from storage.audit import AuditEntry, AuditLog
from storage.db import Database
from storage.identity import person_for
from storage.models.platform import ROLE_SYSADMIN


class ExportRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ExportResult:
    rows: int
    masked: bool
    path: Path


def export_file(
    db: Database,
    audit_log: AuditLog,
    spec: SheetSpec,
    rows: Callable[[Session], Iterator[list[Any]]],
    path: Path,
    *,
    now: datetime,
    corp_id: str,
    unmasked: bool = False,
    by: str | None = None,
) -> ExportResult:
    """Write every record of a kind to ``path``; raises ``ExportRefused`` when not allowed."""
    _check_format(path)
    actor, person_id, person = "cli", None, None
    with db.read() as session:
        if by:
            person = person_for(session, corp_id=corp_id, staff_id=by)
            if person is not None:
                actor, person_id = f"person:{person.id}", person.id
    if unmasked and (person is None or not person.has_role(ROLE_SYSADMIN)):
        _audit(
            db,
            audit_log,
            AuditEntry(
                action="access.denied",
                entity_type="export",
                entity_id=spec.kind,
                actor=actor,
                actor_person_id=person_id,
                detail={"what": "export --unmasked", "staff_id": by},
            ),
            now,
        )
        if not by:
            raise ExportRefused("导出未脱敏数据须用 --by 指明系统管理员的钉钉用户ID。")
        if person is None:
            raise ExportRefused(f"找不到钉钉用户ID为「{by}」的在职人员，请检查 --by 参数。")
        raise ExportRefused("只有系统管理员可以导出未脱敏的数据（联系电话、身份证号等）。")
    if by and person is None:
        raise ExportRefused(f"找不到钉钉用户ID为「{by}」的在职人员，请检查 --by 参数。")
    masks = [("" if unmasked else column.mask) for column in spec.columns]
    with db.read() as session:

        def lines() -> Iterator[list[str]]:
            for values in rows(session):
                yield [cell(value, how) for value, how in zip(values, masks, strict=True)]

        count = write_table(path, spec.title, spec.headers, lines())
    _audit(
        db,
        audit_log,
        AuditEntry(
            action="directory.export",
            entity_type=spec.entity_type,
            entity_id=spec.kind,
            actor=actor,
            actor_person_id=person_id,
            detail={"file": path.name, "rows": count, "masked": not unmasked},
        ),
        now,
    )
    return ExportResult(rows=count, masked=not unmasked, path=path)


def export_template(spec: SheetSpec, path: Path) -> None:
    """An empty sheet with the headers; in .xlsx also a 填写说明 sheet explaining each column."""
    _check_format(path)
    notes = [["列名", "是否必填", "填写说明"]]
    for column in spec.columns:
        if column.export_only:
            notes.append([column.header, "导出专用", column.note or "导入时忽略"])
        else:
            notes.append([column.header, "必填" if column.required else "选填", column.note])
    if spec.key_note:
        notes.append(["", "", ""])
        notes.append(["匹配规则", "", spec.key_note])
    notes.append(["导入方式", "", "先用 --dry-run 试运行查看结果；有任何错误时整份文件都不会导入。"])
    write_table(path, spec.title, spec.headers, [], notes)


def _check_format(path: Path) -> None:
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ExportRefused("只支持导出为 .xlsx 或 .csv 文件。")


def _audit(db: Database, audit_log: AuditLog, entry: AuditEntry, now: datetime) -> None:
    with db.write() as session:
        audit_log.append(session, entry, at=now)
