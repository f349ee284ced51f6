"""立卷归档 (BR-32): one dossier per closed task, a zip that proves itself.

Ready when the task is reviewed, every finding is disposed (its rectification closed or
withdrawn, every disposition closed), every record published, every document rendered and no
evidence still downloading. The zip holds every document (PDF), every stored evidence file, the
audit timeline of the task (``timeline.json``, each event with its chain hash), the records
(``records.json``), a table of contents (``toc.pdf``) and ``manifest.json`` listing every other
member with its SHA-256 and size. ``verify`` checks a zip against its manifest, so a changed byte
anywhere is found. Archives are written once (read-only file; the row is immutable in the
database) and the task moves reviewed -> closed in the same transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.context import Context
from cards.documents.form import DocumentForm, FormTable
from cards.documents.layout import render
from handlers.documents import store as documents_store
from handlers.documents.service import issuer_name
from handlers.results.blobs import open_store
from handlers.tasks.states import next_state
from storage.base import canonical_json
from storage.models import (
    Archive,
    AuditEvent,
    CreditProposal,
    Document,
    Evidence,
    Finding,
    InspectionObject,
    InspectionRecord,
    Publication,
    RecordVersion,
    Rectification,
    Referral,
    Reinspection,
    Report,
    Transfer,
)
from storage.models.tasks import Task

FORMAT = "chayici-dossier/1"
DISPOSITIONS = (("抄告", Referral), ("上报", Report), ("移送", Transfer), ("信用惩戒建议", CreditProposal))


def blockers(session: Session, task: Task) -> list[str]:
    """Why the task cannot be archived yet (empty = ready)."""
    problems: list[str] = []
    if task.state != "reviewed":
        problems.append(f"任务状态为「{task.state}」，须全部检查结果审核通过")
    open_rects = session.execute(
        select(Rectification.id).where(
            Rectification.task_id == task.id, Rectification.state.not_in(("closed", "cancelled"))
        )
    ).all()
    if open_rects:
        problems.append(f"{len(open_rects)} 项整改尚未办结")
    for label, model in DISPOSITIONS:
        count = len(
            session.execute(select(model.id).where(model.task_id == task.id, model.closed_at.is_(None))).all()
        )
        if count:
            problems.append(f"{count} 件{label}尚未办结")
    records = session.execute(
        select(InspectionRecord.id).where(
            InspectionRecord.task_id == task.id, InspectionRecord.state == "reviewed"
        )
    ).all()
    published = session.execute(
        select(Publication.id).where(Publication.task_id == task.id, Publication.state == "published")
    ).all()
    if len(published) < len(records):
        problems.append(f"{len(records) - len(published)} 条检查结果尚未公示")
    pending_docs = session.execute(
        select(Document.id).where(Document.task_id == task.id, Document.sha256.is_(None))
    ).all()
    if pending_docs:
        problems.append(f"{len(pending_docs)} 份文书尚未生成")
    record_ids = [
        r for (r,) in session.execute(select(InspectionRecord.id).where(InspectionRecord.task_id == task.id))
    ]
    if (
        record_ids
        and session.execute(
            select(Evidence.id).where(Evidence.record_id.in_(record_ids), Evidence.state == "pending")
        ).first()
    ):
        problems.append("有证据材料尚未下载存证")
    return problems


@dataclass
class Member:
    path: str
    data: bytes
    kind: str
    title: str


@dataclass
class Dossier:
    members: list[Member] = field(default_factory=list)

    def add(self, path: str, data: bytes, kind: str, title: str) -> None:
        self.members.append(Member(path, data, kind, title))


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n").encode()


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch not in '\\/:*?"<>|\n\r\t')[:80] or "file"


def collect(session: Session, task: Task, settings: Any) -> Dossier:
    """Every member except the manifest and the table of contents."""
    dossier = Dossier()
    for doc in session.execute(
        select(Document).where(Document.task_id == task.id).order_by(Document.id)
    ).scalars():
        if not doc.file_path or not doc.sha256:
            continue
        data = documents_store.read(settings.data_dir, doc.file_path, doc.sha256)
        title = doc.number + ("（已作废）" if doc.voided else "")
        dossier.add(f"documents/{doc.id:05d}-{_safe(doc.number)}.pdf", data, f"document:{doc.kind}", title)
    records = list(
        session.execute(
            select(InspectionRecord).where(InspectionRecord.task_id == task.id).order_by(InspectionRecord.id)
        ).scalars()
    )
    record_ids = [r.id for r in records]
    blobs = open_store(settings)
    evidence = list(
        session.execute(
            select(Evidence)
            .where(Evidence.record_id.in_(record_ids or [0]), Evidence.state == "stored")
            .order_by(Evidence.id)
        ).scalars()
    )
    for row in evidence:
        data = blobs.get(row.storage_key or "", row.sha256 or "")
        dossier.add(
            f"evidence/{row.id:05d}-{_safe(row.file_name or row.kind)}",
            data,
            f"evidence:{row.kind}",
            row.file_name or row.kind,
        )
    dossier.add(
        "records.json", _json(_records(session, task, records)), "records", "检查记录、整改、处置与公示"
    )
    dossier.add(
        "timeline.json", _json(timeline(session, task, records, evidence)), "timeline", "全过程记录（审计链）"
    )
    return dossier


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in ("snapshot",)}


def _records(session: Session, task: Task, records: list[InspectionRecord]) -> dict[str, Any]:
    ids = [r.id for r in records] or [0]

    def rows(model: Any, column: Any) -> list[dict[str, Any]]:
        return [_row(o) for o in session.execute(select(model).where(column).order_by(model.id)).scalars()]

    return {
        "task": _row(task),
        "records": [_row(r) for r in records],
        "versions": rows(RecordVersion, RecordVersion.record_id.in_(ids)),
        "findings": rows(Finding, Finding.task_id == task.id),
        "rectifications": rows(Rectification, Rectification.task_id == task.id),
        "reinspections": rows(Reinspection, Reinspection.task_id == task.id),
        "referrals": rows(Referral, Referral.task_id == task.id),
        "reports": rows(Report, Report.task_id == task.id),
        "transfers": rows(Transfer, Transfer.task_id == task.id),
        "credit_proposals": rows(CreditProposal, CreditProposal.task_id == task.id),
        "publications": rows(Publication, Publication.task_id == task.id),
    }


def timeline(
    session: Session, task: Task, records: list[InspectionRecord], evidence: list[Evidence]
) -> list[dict[str, Any]]:
    """Every audit event about the task and what hangs off it, in commit order, with the chain
    each links into and its hashes."""
    ids = {
        "task": [task.id],
        "inspection_record": [r.id for r in records],
        "evidence": [e.id for e in evidence],
        "document": [d for (d,) in session.execute(select(Document.id).where(Document.task_id == task.id))],
        "finding": [f for (f,) in session.execute(select(Finding.id).where(Finding.task_id == task.id))],
        "rectification": [
            r for (r,) in session.execute(select(Rectification.id).where(Rectification.task_id == task.id))
        ],
        "reinspection": [
            r for (r,) in session.execute(select(Reinspection.id).where(Reinspection.task_id == task.id))
        ],
        "publication": [
            p for (p,) in session.execute(select(Publication.id).where(Publication.task_id == task.id))
        ],
    }
    for label, model in (
        ("referral", Referral),
        ("report", Report),
        ("transfer", Transfer),
        ("credit", CreditProposal),
    ):
        ids[label] = [i for (i,) in session.execute(select(model.id).where(model.task_id == task.id))]
    conditions = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_([str(i) for i in values])
        for kind, values in ids.items()
        if values
    ]
    events = session.execute(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id)).scalars()
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity": f"{e.entity_type}:{e.entity_id}",
            "body": e.body,
            "chain": e.chain_id,
            "hash": e.hash,
            "prev_hash": e.prev_hash,
        }
        for e in events
    ]


def toc_pdf(
    session: Session, task: Task, members: list[dict[str, Any]], built: datetime, settings: Any
) -> bytes:
    obj_names = ", ".join(
        n
        for (n,) in session.execute(
            select(InspectionObject.name)
            .join(InspectionRecord, InspectionRecord.object_id == InspectionObject.id)
            .where(InspectionRecord.task_id == task.id)
        )
    )
    form = DocumentForm(
        title="案卷目录",
        issuer=issuer_name(session, task.lead_unit),
        number=task.number,
        fields=[
            ("检查任务", task.number),
            ("检查时间", f"{task.window_start.isoformat()} 至 {task.window_end.isoformat()}"),
            ("检查对象", obj_names or "—"),
            ("立卷时间", built.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")),
            ("保管期限", "永久" if settings.archive_retention == "permanent" else settings.archive_retention),
        ],
        tables=[
            FormTable(
                title="卷内文件",
                columns=("序号", "文件", "名称", "SHA-256（前16位）"),
                rows=[
                    (str(i), m["path"], m["title"], m["sha256"][:16]) for i, m in enumerate(members, start=1)
                ],
                widths=(1, 5, 4, 3),
            )
        ],
        footer="完整的 SHA-256 见卷内 manifest.json；用 chayici archive verify 核验。",
    )
    return render(form, font_path=settings.cjk_font_path)


def build_zip(session: Session, task: Task, settings: Any, built: datetime) -> tuple[bytes, int]:
    dossier = collect(session, task, settings)
    listed = [
        {
            "path": m.path,
            "sha256": hashlib.sha256(m.data).hexdigest(),
            "size": len(m.data),
            "kind": m.kind,
            "title": m.title,
        }
        for m in dossier.members
    ]
    toc = toc_pdf(session, task, listed, built, settings)
    listed.append(
        {
            "path": "toc.pdf",
            "sha256": hashlib.sha256(toc).hexdigest(),
            "size": len(toc),
            "kind": "toc",
            "title": "案卷目录",
        }
    )
    manifest = {
        "format": FORMAT,
        "task": {"id": task.id, "number": task.number},
        "built_at": built.isoformat(),
        "retention": settings.archive_retention,
        "files": listed,
    }
    stamp = built.astimezone(ZoneInfo(settings.timezone)).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in [
            *((m.path, m.data) for m in dossier.members),
            ("toc.pdf", toc),
            ("manifest.json", canonical_json(manifest).encode()),
        ]:
            info = zipfile.ZipInfo(path, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o444 << 16
            archive.writestr(info, data)
    return buffer.getvalue(), len(listed)


def retain_until(settings: Any, built: date) -> date | None:
    text = settings.archive_retention.strip().lower()
    if text == "permanent" or not text.endswith("y") or not text[:-1].isdigit():
        return None
    return built.replace(year=built.year + int(text[:-1]))


def archive_task(ctx: Context, task: Task) -> Archive:
    """Build, store and record the dossier; close the task (reviewed -> closed)."""
    existing = ctx.session.execute(select(Archive).where(Archive.task_id == task.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    problems = blockers(ctx.session, task)
    if problems:
        raise NotReady("；".join(problems))
    data, files = build_zip(ctx.session, task, ctx.settings, ctx.now)
    digest = hashlib.sha256(data).hexdigest()
    relative = f"archives/{task.id:06d}-{digest[:16]}.zip"
    target = Path(ctx.settings.data_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    local = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    row = Archive(
        task_id=task.id,
        path=relative,
        sha256=digest,
        size=len(data),
        files=files,
        retention=ctx.settings.archive_retention,
        retain_until=retain_until(ctx.settings, local),
        built_at=ctx.now,
        built_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit(
        "archive.built",
        "archive",
        row.id,
        detail={"task_id": task.id, "sha256": digest, "files": files, "path": relative},
    )
    before = task.state
    task.state = next_state(task.state, "close")
    task.updated_at = ctx.now
    ctx.audit(
        "task.close",
        "task",
        task.id,
        before={"state": before},
        after={"state": task.state},
        detail={"archive_id": row.id},
    )
    return row


class NotReady(Exception):
    """The task cannot be archived yet; the message lists why (for people)."""


def verify(path: Path) -> list[str]:
    """Problems found in a dossier zip (empty = it matches its manifest exactly)."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "manifest.json" not in names:
                return ["缺少 manifest.json"]
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                problems.append(f"未知的案卷格式 {manifest.get('format')!r}")
            listed = {entry["path"]: entry for entry in manifest.get("files", [])}
            for name in sorted(names - set(listed) - {"manifest.json"}):
                problems.append(f"{name}：不在清单中")
            for name, entry in sorted(listed.items()):
                if name not in names:
                    problems.append(f"{name}：清单中有，案卷中缺失")
                    continue
                data = archive.read(name)
                if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    problems.append(f"{name}：SHA-256 不符，文件已被改动")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError, zlib_error()) as exc:
        problems.append(f"案卷文件损坏：{type(exc).__name__} {exc}")
    return problems


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error
