"""Evidence (BR-16): media an inspector sends in the 1:1 chat, and photos and signatures from the
mobile form, attached to the inspector's record and stored by SHA-256, never altered.

Chat media arrive as download codes. The handler only records them (``pending``) and queues the
worker's ``evidence.fetch`` job, which calls ``messageFiles/download`` and fetches the URL: no
outbound call in the request. With several open records the bot asks which one (a card); the
choice is remembered for later media. Attaching to a record the sender is not on is refused and
audited.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.context import CardContext, CardResult, CommandContext, Context, JobContext, Users
from bot.dingtalk.errors import FatalError
from bot.payloads import AudioContent, FileContent, PictureContent, RichTextContent, VideoContent
from bot.router import Router
from cards.results import pick_card
from handlers.results import hooks, publish, records
from handlers.results.blobs import open_store
from handlers.results.records import EDITABLE
from handlers.results.views import KIND_LABELS
from storage.models import (
    AssignmentMember,
    Evidence,
    EvidenceFocus,
    InspectionObject,
    InspectionRecord,
    Inspector,
)
from storage.models.tasks import Task

FETCH_JOB = "evidence.fetch"
MEDIA_KINDS = ("picture", "file", "audio", "video", "richText")
DEFAULT_NAMES = {"picture": "现场照片.jpg", "audio": "现场录音", "video": "现场视频.mp4", "file": "文件"}


def open_records(ctx: Context, person_id: int) -> list[tuple[InspectionRecord, str, str]]:
    """The person's records still taking results: (record, object name, task number)."""
    rows = ctx.session.execute(
        select(InspectionRecord, InspectionObject.name, Task.number)
        .join(AssignmentMember, AssignmentMember.assignment_id == InspectionRecord.assignment_id)
        .join(Inspector, Inspector.id == AssignmentMember.inspector_id)
        .join(InspectionObject, InspectionObject.id == InspectionRecord.object_id)
        .join(Task, Task.id == InspectionRecord.task_id)
        .where(
            Inspector.person_id == person_id,
            AssignmentMember.state == "accepted",
            InspectionRecord.state.in_(EDITABLE),
        )
        .order_by(InspectionRecord.id)
    ).all()
    return [(record, name, number) for record, name, number in rows]


def _media(ctx: CommandContext) -> list[tuple[str, str, str | None]]:
    """(kind, download code, file name) of every file in the message."""
    body = ctx.message.body()
    if isinstance(body, PictureContent):
        return [("picture", body.downloadCode, None)]
    if isinstance(body, RichTextContent):
        return [("picture", code, None) for code in body.download_codes]
    if isinstance(body, FileContent):
        return [("file", body.downloadCode, body.fileName)]
    if isinstance(body, AudioContent):
        return [("audio", body.downloadCode, None)]
    if isinstance(body, VideoContent):
        return [("video", body.downloadCode, None)]
    return []


def on_media(ctx: CommandContext) -> None:
    if ctx.is_group:
        ctx.reply("照片等证据材料请在与我的单聊中发送，我会把它归入您正在进行的检查记录。")
        return
    media = _media(ctx)
    if not media or ctx.person is None:
        ctx.reply("没有识别到可以保存的文件。")
        return
    person = ctx.person
    if any(route(ctx, media) for route in hooks.media_routes):
        return
    records_open = open_records(ctx, person.id)
    if not records_open:
        ctx.reply(
            "您当前没有进行中的检查记录，材料没有保存。接受派单后，在单聊中发送的照片、录音、视频和文件会自动归入对应的检查记录。"
        )
        return
    target: InspectionRecord | None = records_open[0][0] if len(records_open) == 1 else None
    if target is None:
        focus = ctx.session.get(EvidenceFocus, person.id)
        target = next((r for r, _, _ in records_open if focus is not None and r.id == focus.record_id), None)
    taken = datetime.fromtimestamp(ctx.message.createAt / 1000, tz=UTC) if ctx.message.createAt else ctx.now
    rows = []
    for kind, code, name in media:
        row = Evidence(
            record_id=target.id if target else None,
            kind=kind,
            source="chat",
            file_name=name or DEFAULT_NAMES[kind],
            state="pending",
            msg_id=ctx.message.msgId,
            download_code=code,
            taken_at=taken,
            sender_person_id=person.id,
            sender_staff_id=ctx.staff_id,
            received_at=ctx.now,
            attached_at=ctx.now if target else None,
        )
        rows.append(row)
    ctx.session.add_all(rows)
    ctx.session.flush()
    for row in rows:
        ctx.audit(
            "evidence.receive",
            "evidence",
            row.id,
            after={
                "record_id": row.record_id,
                "kind": row.kind,
                "msg_id": row.msg_id,
                "file_name": row.file_name,
            },
        )
        ctx.enqueue(
            FETCH_JOB, {"evidence_id": row.id}, key=f"evidence:{row.id}:fetch", rate_keys=["api:robot"]
        )
    if target is None:
        _ask(ctx, person.id, records_open, rows[0].id)


def _ask(
    ctx: Context, person_id: int, records_open: list[tuple[InspectionRecord, str, str]], first_id: int
) -> None:
    waiting = ctx.session.execute(
        select(Evidence.id).where(
            Evidence.sender_person_id == person_id, Evidence.record_id.is_(None), Evidence.source == "chat"
        )
    ).all()
    options = [(str(r.id), f"{name}（{number}）") for r, name, number in records_open]
    ctx.send_card(
        "evidence_pick",
        f"evidence-pick-{person_id}-{first_id}",
        ctx.staff_id or "",
        pick_card(waiting=len(waiting), options=options),
        audience=(ctx.staff_id or "",),
        entity=("evidence_pick", person_id),
    )


def pick_action(ctx: CardContext) -> CardResult:
    """Attach the waiting media to the chosen record, if the person is on its team."""
    if ctx.person is None:
        return CardResult(toast="请先登记后再操作。")
    choice = ctx.param("record")
    records_open = {r.id: (r, name) for r, name, _ in open_records(ctx, ctx.person.id)}
    if not choice.isdigit() or int(choice) not in records_open:
        ctx.audit(
            "evidence.attach_refused",
            "inspection_record",
            choice or "-",
            detail={"staff_id": ctx.staff_id, "reason": "not_on_team"},
        )
        return CardResult(toast="只能把材料归入您本人所在检查组、尚未审核的检查记录。这次操作已记录。")
    record, name = records_open[int(choice)]
    waiting = list(
        ctx.session.execute(
            select(Evidence).where(
                Evidence.sender_person_id == ctx.person.id,
                Evidence.record_id.is_(None),
                Evidence.source == "chat",
            )
        ).scalars()
    )
    for row in waiting:
        row.record_id = record.id
        row.attached_at = ctx.now
        ctx.audit("evidence.attach", "evidence", row.id, after={"record_id": record.id})
    focus = ctx.session.get(EvidenceFocus, ctx.person.id)
    if focus is None:
        ctx.session.add(EvidenceFocus(person_id=ctx.person.id, record_id=record.id, chosen_at=ctx.now))
    else:
        focus.record_id, focus.chosen_at = record.id, ctx.now
    publish.refresh_cards(ctx, records.load(ctx, record))
    return CardResult(
        update=pick_card(waiting=len(waiting), options=[], chosen=name),
        toast=f"已归入「{name}」的检查记录。",
        readonly=True,
    )


def fetch(job: JobContext, payload: dict[str, Any]) -> str:
    """Worker job: download one chat file and store it by hash, once."""
    evidence_id = int(payload["evidence_id"])
    with job.db.read() as session:
        row = session.get(Evidence, evidence_id)
        if row is None:
            raise FatalError(f"evidence {evidence_id} does not exist")
        if row.state != "pending" or not row.download_code:
            return row.sha256 or row.state
        code, name = row.download_code, row.file_name
    try:
        url = job.client.file_download_url(code)
        data, content_type = job.client.download(url, max_bytes=job.settings.evidence_max_bytes)
    except FatalError as exc:
        _record_failure(job, evidence_id, str(exc))
        return "failed"
    digest, key = open_store(job.settings).put(data)
    guessed = mimetypes.guess_type(name or "")[0]
    with job.db.write() as session:
        ctx = _job_ctx(job, session, f"evidence:{evidence_id}")
        row = session.get(Evidence, evidence_id, with_for_update=True)
        assert row is not None
        if row.sha256 is None:
            row.sha256, row.size, row.storage_key = digest, len(data), key
            row.content_type = (
                (content_type or "").split(";")[0].strip() or guessed or "application/octet-stream"
            )
            row.state, row.stored_at = "stored", job.now
            ctx.audit(
                "evidence.store",
                "evidence",
                row.id,
                after={
                    "sha256": digest,
                    "size": len(data),
                    "content_type": row.content_type,
                    "record_id": row.record_id,
                },
            )
            _confirm(ctx, row)
        return digest


def _confirm(ctx: Context, row: Evidence) -> None:
    label = KIND_LABELS.get(row.kind, "材料")
    where = ""
    if row.record_id is not None:
        record = ctx.session.get(InspectionRecord, row.record_id)
        obj = ctx.session.get(InspectionObject, record.object_id) if record else None
        where = f"，已归入「{obj.name if obj else ''}」的检查记录"
        if record is not None:
            publish.refresh_cards(ctx, records.load(ctx, record))
    else:
        where = "，请在卡片上选择归入哪一户的检查记录"
    if row.sender_staff_id:
        ctx.send_text(
            Users.of(row.sender_staff_id),
            f"已存证：{label}「{row.file_name}」，{row.size} 字节，SHA-256 {row.sha256}{where}。",
            key=f"evidence:{row.id}:stored",
        )


def _record_failure(job: JobContext, evidence_id: int, error: str) -> None:
    with job.db.write() as session:
        ctx = _job_ctx(job, session, f"evidence:{evidence_id}")
        row = session.get(Evidence, evidence_id, with_for_update=True)
        if row is None or row.state != "pending":
            return
        row.state, row.error = "failed", error[:300]
        ctx.audit("evidence.fetch_failed", "evidence", row.id, detail={"error": error[:300]})
        if row.sender_staff_id:
            ctx.send_text(
                Users.of(row.sender_staff_id),
                f"{KIND_LABELS.get(row.kind, '材料')}「{row.file_name}」下载失败，没有保存，请重新发送。",
                key=f"evidence:{row.id}:failed",
            )


def _job_ctx(job: JobContext, session: Any, key: str) -> Context:
    return Context(
        session=session,
        now=job.now,
        settings=job.settings,
        audit_log=job.audit_log,
        person=None,
        staff_id=None,
        event_key=key,
    )


def store_upload(
    ctx: Context,
    loaded: records.Loaded,
    data: bytes,
    *,
    kind: str,
    content_type: str,
    file_name: str,
    role: str | None = None,
    taken_at: datetime | None = None,
    location: tuple[float, float, float] | None = None,
) -> Evidence:
    """A photo or signature from the mobile form: stored now (local disk, no outbound call)."""
    digest, key = open_store(ctx.settings).put(data)
    existing = ctx.session.execute(
        select(Evidence).where(
            Evidence.record_id == loaded.record.id,
            Evidence.sha256 == digest,
            Evidence.kind == kind,
            Evidence.role.is_(None) if role is None else Evidence.role == role,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    row = Evidence(
        record_id=loaded.record.id,
        kind=kind,
        source="form",
        role=role,
        file_name=file_name[:255],
        content_type=content_type[:100],
        sha256=digest,
        size=len(data),
        storage_key=key,
        state="stored",
        taken_at=taken_at or ctx.now,
        lat=location[0] if location else None,
        lon=location[1] if location else None,
        accuracy=location[2] if location else None,
        sender_person_id=ctx.person.id if ctx.person else None,
        sender_staff_id=ctx.staff_id,
        received_at=ctx.now,
        stored_at=ctx.now,
        attached_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit(
        "evidence.store",
        "evidence",
        row.id,
        after={
            "sha256": digest,
            "size": len(data),
            "kind": kind,
            "role": role,
            "record_id": loaded.record.id,
            "source": "form",
        },
    )
    return row


def register(router: Router) -> None:
    for kind in MEDIA_KINDS:
        router.on_message(kind)(on_media)
    router.card_action("evidence_pick", "pick")(pick_action)
    router.job(FETCH_JOB)(fetch)
