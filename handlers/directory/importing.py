"""The import engine: read a sheet, validate every row, write in batches, all or nothing.

One pass over the file inside one write transaction. Every row is validated (errors are
collected, not thrown, so the report lists them all); valid rows are written in batches as they
come, so memory stays flat. At the end the transaction commits only if there was no error and
this is not a dry run; otherwise it rolls back and nothing is stored. A dry run therefore goes
through exactly the same code as a real import, database constraints included.

Auditing: a committed import appends one audit event for the whole file (actor, file name and
SHA-256, counts); each changed record gets its own ``directory_version`` row with before/after.
A refused real import is audited too, in its own transaction, because the attempt matters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handlers.directory.rules import DEFAULT_TZ, local_today
from handlers.directory.sheets import FileRefused, Problem, Row, SheetSpec
from handlers.directory.tables import cell_text, open_table
from storage.audit import AuditEntry, AuditLog
from storage.db import Database
from storage.identity import person_for
from storage.models.platform import Person

MAX_LISTED_PROBLEMS = 500
DEFAULT_SHOWN = 200


@dataclass
class Outcome:
    row: int
    action: str  # create | update | unchanged
    label: str
    changed: tuple[str, ...] = ()


ACTION_LABELS = {"create": "新增", "update": "更新", "unchanged": "无变化"}


@dataclass
class ImportReport:
    kind: str
    title: str
    file: str
    dry_run: bool
    keep: int = DEFAULT_SHOWN
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    committed: bool = False
    refused: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error_count == 0

    def add_outcome(self, outcome: Outcome) -> None:
        if outcome.action == "create":
            self.created += 1
        elif outcome.action == "update":
            self.updated += 1
        else:
            self.unchanged += 1
        if len(self.outcomes) < self.keep:
            self.outcomes.append(outcome)

    def add_error(self, problem: Problem) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_PROBLEMS:
            self.errors.append(problem)

    def add_warning(self, problem: Problem) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED_PROBLEMS:
            self.warnings.append(problem)

    def text(self, show: int | None = None) -> str:
        """The report as staff read it (Chinese)."""
        show = self.keep if show is None else show
        mode = "（试运行：不写入数据库）" if self.dry_run else ""
        lines = [f"「{self.title}」导入 {self.file}{mode}"]
        if self.refused:
            lines.append(f"未导入任何数据：{self.refused}")
            lines.extend(f"  {problem.text()}" for problem in self.errors[:show])
            return "\n".join(lines)
        lines.append(
            f"共 {self.rows} 行数据：新增 {self.created} 行，更新 {self.updated} 行，"
            f"无变化 {self.unchanged} 行，有错误 {self.error_rows} 行。"
        )
        if self.error_count:
            lines.append(f"发现 {self.error_count} 处错误，全部数据均未导入。请改正后重新导入：")
            listed = sorted(self.errors, key=lambda problem: problem.row or 0)[: max(show, 20)]
            lines.extend(f"  {problem.text()}" for problem in listed)
            if self.error_count > len(listed):
                lines.append(f"  ……另有 {self.error_count - len(listed)} 处错误未列出")
        elif self.committed:
            lines.append("已全部导入。")
        elif self.dry_run:
            lines.append("没有发现错误；去掉 --dry-run 即可正式导入。")
        if self.warning_count:
            lines.append(f"提示 {self.warning_count} 处（不影响导入）：")
            lines.extend(f"  {problem.text()}" for problem in self.warnings[:show])
            if self.warning_count > min(show, len(self.warnings)):
                lines.append(f"  ……另有 {self.warning_count - min(show, len(self.warnings))} 处提示未列出")
        if show and self.outcomes:
            total = self.created + self.updated + self.unchanged
            lines.append(f"逐行结果（前 {min(show, len(self.outcomes))} 行，共 {total} 行）：")
            for outcome in sorted(self.outcomes, key=lambda item: item.row)[:show]:
                detail = f"（{'、'.join(outcome.changed)}）" if outcome.changed else ""
                lines.append(f"  第 {outcome.row} 行 {ACTION_LABELS[outcome.action]} {outcome.label}{detail}")
        if self.seconds > 0 and self.rows:
            lines.append(f"用时 {self.seconds:.1f} 秒，约 {self.rows / self.seconds:,.0f} 行/秒。")
        return "\n".join(lines)


@dataclass
class ImportJob:
    """What importers share during one run."""

    session: Session
    now: datetime
    today: date
    actor: str
    actor_person_id: int | None
    corp_id: str
    reason: str
    report: ImportReport
    present: frozenset[str] = frozenset()

    def error(self, row: int, column: str | None, message: str) -> None:
        """A problem found while writing (against the database); the row is not written."""
        self.report.add_error(Problem(row, column, message))
        self.report.error_rows += 1

    def warn(self, row: int, column: str | None, message: str) -> None:
        self.report.add_warning(Problem(row, column, message))


class Importer:
    """One kind of record. Subclasses set ``spec`` and implement the three steps."""

    spec: SheetSpec
    batch_size = 500

    def prepare(self, job: ImportJob) -> None:
        """Load what rows are checked against (units by name, existing keys ...)."""

    def parse(self, row: Row, job: ImportJob) -> Any:
        """Validate one row; record problems on ``row``; return what ``write`` needs."""
        raise NotImplementedError

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        """Create or update the batch's records; report an ``Outcome`` (or an error) per row."""
        raise NotImplementedError


class _Rollback(Exception):
    """Leave the write transaction without committing (dry run, or rows with errors)."""


def run_import(importer: Importer, path: Path, job: ImportJob) -> None:
    spec = importer.spec
    report = job.report
    with open_table(path, prefer_sheet=spec.title) as table:
        header: tuple[int, list[Any]] | None = None
        for number, cells in table.rows:
            filled = [cell for cell in cells if cell not in (None, "")]
            if not filled:
                continue
            if len(filled) == 1 and not spec.is_header_cell(filled[0]):
                continue  # a title line above the header, as bureau sheets often have
            header = (number, cells)
            break
        if header is None:
            raise FileRefused("文件中没有表头和数据。")
        match = spec.match_headers(header[1], header[0])
        if match.problems:
            raise FileRefused("表头与模板不一致，请使用 export-template 导出的模板。", match.problems)
        job.present = match.present
        importer.prepare(job)
        positions = sorted(match.positions.items())
        batch: list[tuple[Row, Any]] = []
        for number, cells in table.rows:
            width = len(cells)
            values = {
                column.field: cell_text(cells[index]) if index < width else None
                for index, column in positions
            }
            if not any(value is not None for value in values.values()):
                continue
            row = Row(number, values)
            record = importer.parse(row, job)
            report.rows += 1
            for warning in row.warnings:
                report.add_warning(warning)
            if row.errors:
                report.error_rows += 1
                for problem in row.errors:
                    report.add_error(problem)
                continue
            batch.append((row, record))
            if len(batch) >= importer.batch_size:
                importer.write(batch, job)
                batch = []
        if batch:
            importer.write(batch, job)
        if report.rows == 0:
            raise FileRefused("表头下面没有数据行。")


def import_file(
    db: Database,
    audit_log: AuditLog,
    importer: Importer,
    path: Path,
    *,
    now: datetime,
    corp_id: str,
    dry_run: bool = False,
    by: str | None = None,
    tz: str = DEFAULT_TZ,
    keep: int = DEFAULT_SHOWN,
) -> ImportReport:
    """Import one file in one transaction; the report says what happened (or would have)."""
    spec = importer.spec
    report = ImportReport(kind=spec.kind, title=spec.title, file=path.name, dry_run=dry_run, keep=keep)
    started = perf_counter()
    actor, actor_person_id = "cli", None
    try:
        with db.write() as session:
            actor, actor_person_id = resolve_actor(session, by, corp_id)
            job = ImportJob(
                session=session,
                now=now,
                today=local_today(now, tz),
                actor=actor,
                actor_person_id=actor_person_id,
                corp_id=corp_id,
                reason=f"导入{spec.title}：{path.name}",
                report=report,
            )
            run_import(importer, path, job)
            if report.error_count or dry_run:
                raise _Rollback
            audit_log.append(
                session,
                AuditEntry(
                    action="directory.import",
                    entity_type=spec.entity_type,
                    entity_id=spec.kind,
                    actor=actor,
                    actor_person_id=actor_person_id,
                    detail=_audit_detail(report, path),
                ),
                at=now,
            )
            report.committed = True
    except _Rollback:
        pass
    except FileRefused as refusal:
        report.refused = refusal.message
        for problem in refusal.problems:
            report.add_error(problem)
    except IntegrityError as exc:
        report.refused = f"数据库拒绝写入（数据与已有记录冲突）：{type(exc.orig).__name__}"
    report.seconds = perf_counter() - started
    if not dry_run and not report.committed:
        _audit_refusal(db, audit_log, report, path, actor, actor_person_id, now)
    return report


def resolve_actor(session: Session, by: str | None, corp_id: str) -> tuple[str, int | None]:
    """``--by STAFF_ID`` -> ("person:<id>", id); without it the command line itself acts."""
    if not by:
        return "cli", None
    person = find_person(session, by, corp_id)
    return f"person:{person.id}", person.id


def find_person(session: Session, staff_id: str, corp_id: str) -> Person:
    person = person_for(session, corp_id=corp_id, staff_id=staff_id)
    if person is None:
        raise FileRefused(f"找不到钉钉用户ID为「{staff_id}」的在职人员，请检查 --by 参数。")
    return person


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _audit_detail(report: ImportReport, path: Path) -> dict[str, Any]:
    return {
        "file": path.name,
        "sha256": file_sha256(path) if path.is_file() else None,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "errors": report.error_count,
        "warnings": report.warning_count,
        "refused": report.refused,
    }


def _audit_refusal(
    db: Database,
    audit_log: AuditLog,
    report: ImportReport,
    path: Path,
    actor: str,
    actor_person_id: int | None,
    now: datetime,
) -> None:
    with db.write() as session:
        audit_log.append(
            session,
            AuditEntry(
                action="directory.import_refused",
                entity_type=report.kind,
                entity_id=report.kind,
                actor=actor,
                actor_person_id=actor_person_id,
                detail=_audit_detail(report, path),
            ),
            at=now,
        )
