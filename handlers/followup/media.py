"""Chat files that are not evidence of an open inspection record: attachments of a transfer
(after ``移送 附件 <编号> <类型>``) and photos of a re-check.

They are stored exactly like on-site evidence (rows in ``evidence``, fetched and hashed by the
results capability's worker job), on the original record, with a ``role`` naming what they are
(``transfer:<id>:<kind>``, ``reinspection:<id>``). Precedence: an explicit attachment choice,
then the inspector's open records (results), then their open re-checks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.context import CommandContext
from storage.models import TRANSFER_ATTACHMENTS, Evidence, Finding, MediaFocus, Reinspection, Transfer

Media = list[tuple[str, str, str | None]]


def route(ctx: CommandContext, media: Media) -> bool:
    """Take the files if they belong to a transfer or a re-check; False leaves them to results."""
    person = ctx.person
    if person is None:
        return False
    focus = ctx.session.get(MediaFocus, person.id)
    if focus is not None and focus.until > ctx.now and focus.target.startswith("transfer:"):
        _, transfer_id, kind = focus.target.split(":")
        transfer = ctx.session.get(Transfer, int(transfer_id))
        finding = ctx.session.get(Finding, transfer.finding_id) if transfer else None
        if transfer is not None and finding is not None:
            _store(ctx, media, finding.record_id, f"transfer:{transfer.id}:{kind}")
            ctx.reply(
                f"已收到，作为移送第{transfer.id}号的「{TRANSFER_ATTACHMENTS.get(kind, kind)}」附件存证，"
                "存证完成后会告诉您 SHA-256。"
            )
            return True
    from handlers.results.evidence import open_records

    if open_records(ctx, person.id):
        return False
    rechecks = [
        row
        for row in ctx.session.execute(
            select(Reinspection)
            .where(Reinspection.state == "open")
            .order_by(Reinspection.dispatched_at.desc())
        ).scalars()
        if any(int(m.get("person_id", 0)) == person.id for m in row.team)
    ]
    if not rechecks:
        return False
    target = rechecks[0]
    _store(ctx, media, target.record_id, f"reinspection:{target.id}")
    return True


def _store(ctx: CommandContext, media: Media, record_id: int, role: str) -> None:
    from handlers.results.evidence import DEFAULT_NAMES, FETCH_JOB

    taken = datetime.fromtimestamp(ctx.message.createAt / 1000, tz=UTC) if ctx.message.createAt else ctx.now
    rows = [
        Evidence(
            record_id=record_id,
            kind=kind,
            source="chat",
            role=role,
            file_name=name or DEFAULT_NAMES[kind],
            state="pending",
            msg_id=ctx.message.msgId,
            download_code=code,
            taken_at=taken,
            sender_person_id=ctx.person.id if ctx.person else None,
            sender_staff_id=ctx.staff_id,
            received_at=ctx.now,
            attached_at=ctx.now,
        )
        for kind, code, name in media
    ]
    ctx.session.add_all(rows)
    ctx.session.flush()
    for row in rows:
        ctx.audit(
            "evidence.receive",
            "evidence",
            row.id,
            after={"record_id": record_id, "kind": row.kind, "role": role, "msg_id": row.msg_id},
        )
        ctx.enqueue(
            FETCH_JOB, {"evidence_id": row.id}, key=f"evidence:{row.id}:fetch", rate_keys=["api:robot"]
        )
