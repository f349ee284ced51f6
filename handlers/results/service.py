"""Saving the shared draft, submitting versions (ODK rules), and the lead's review.

Every operation runs in the caller's one transaction with its audit rows and outbox rows, under
the task lock then the record lock (the same order everywhere), so two teammates acting in the
same instant are serialised and the second is told what the first did.

A submission does only what must be answered at once: the checks (``prepare``), the version, its
audit event and one ``results.issue`` job (``apply``; ``issue.py`` issues the findings and
documents and refreshes the cards in the worker). The mobile form first runs ``prepare`` on a
lock-free read and ``apply(guard=True)`` after it (``quick.py``), falling back to the locked way.

Submission rules (anchors-bots.md §5 / §8.2B):
- the submission id was minted when the card or form was built;
- same id, same answers: "already received", nothing changes;
- same id, other answers: a conflict (409.1), nothing changes;
- an edit is a new version naming the current one (``deprecated_id``); naming an older one is a
  conflict (409.9); answers identical to the current version change nothing;
- validation errors come back per field and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select

from bot.context import Context, UserError
from handlers.results import hooks, issue, progress, records, rows, rules
from handlers.results.records import (
    EDITABLE,
    Loaded,
    NotOnTeam,
    current_version,
    draft_values,
    failed_items,
    field_label,
    local,
)
from handlers.results.rows import RecordRow, RowsLoaded, VersionRow
from handlers.results.views import person_name, status
from handlers.tasks import service as tasks
from storage.models import InspectionRecord, RecordVersion

LOG_KEEP = 50
_BY_INSTANCE = select(RecordVersion).where(RecordVersion.instance_id == bindparam("instance_id"))


class Conflict(Exception):
    """The action was based on a state that has changed; nothing was applied. The message (for
    users) says what the current state is; the caller shows the current state with it."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Outcome:
    kind: str  # saved | unchanged | created | duplicate
    message: str
    loaded: Loaded | RowsLoaded
    version: RecordVersion | VersionRow | None = None
    warnings: list[str] = field(default_factory=list)
    evidence: list[Any] | None = None  # ``records.evidence_rows`` as read by a submission


def lock(ctx: Context, record_id: int) -> Loaded:
    """Task lock, then record lock: the order every writer follows."""
    return records.lock_loaded(ctx, record_id)


def _logged(ctx: Context, record: InspectionRecord | RecordRow, action: str, fields: list[str]) -> list[Any]:
    """The record's change log with this change added (the newest ``LOG_KEEP`` entries)."""
    entry = {
        "at": local(ctx, ctx.now).strftime("%m-%d %H:%M"),
        "person_id": ctx.person.id if ctx.person else None,
        "name": ctx.person.name if ctx.person else "系统",
        "action": action,
        "fields": fields,
    }
    return [*record.draft_log, entry][-LOG_KEEP:]


def _log(ctx: Context, record: InspectionRecord, action: str, fields: list[str]) -> None:
    record.draft_log = _logged(ctx, record, action, fields)


class _OrmStore:
    """Where a submission on ORM objects (the card path) reads and writes."""

    @staticmethod
    def by_instance(ctx: Context, loaded: Any, instance_id: str) -> RecordVersion | None:
        return ctx.session.execute(_BY_INSTANCE, {"instance_id": instance_id}).scalar_one_or_none()

    @staticmethod
    def current(ctx: Context, loaded: Any) -> RecordVersion | None:
        return current_version(ctx.session, loaded.record)

    @staticmethod
    def evidence(ctx: Context, loaded: Any) -> list[Any]:
        return records.evidence_rows(ctx, loaded.record.id)

    @staticmethod
    def add_version(ctx: Context, loaded: Any, current: Any, values: dict[str, Any]) -> RecordVersion:
        version = RecordVersion(**values)
        ctx.session.add(version)
        if current is not None:
            current.current = False
        ctx.session.flush()
        return version

    @staticmethod
    def update_record(ctx: Context, record: Any, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(record, name, value)


class _RowStore:
    """The same on plain rows (the mobile form's submission, ``rows.py``), answered from what
    the read brought along when it did (``rows.Prefetched``, PostgreSQL)."""

    update_record = staticmethod(rows.update_record)

    @staticmethod
    def by_instance(ctx: Context, loaded: RowsLoaded, instance_id: str) -> VersionRow | None:
        ahead = loaded.prefetched
        if ahead is not None and ahead.instance_id == instance_id:
            return ahead.known
        return rows.version_by_instance(ctx, instance_id)

    @staticmethod
    def current(ctx: Context, loaded: RowsLoaded) -> VersionRow | None:
        if loaded.prefetched is not None:
            return loaded.prefetched.current
        return rows.version_by_id(ctx, loaded.record.current_version_id)

    @staticmethod
    def evidence(ctx: Context, loaded: RowsLoaded) -> list[Any]:
        if loaded.prefetched is not None:
            return loaded.prefetched.evidence
        return records.evidence_rows(ctx, loaded.record.id)

    @staticmethod
    def add_version(ctx: Context, loaded: RowsLoaded, current: Any, values: dict[str, Any]) -> VersionRow:
        ahead = loaded.prefetched
        return rows.add_version(ctx, current, values, version_id=ahead.version_id if ahead else None)


def _check_editable(loaded: Loaded | RowsLoaded) -> None:
    state = loaded.record.state
    if state == "reviewed":
        raise UserError("这条记录已由牵头单位审核通过，不能再修改。")
    if state not in EDITABLE:
        raise UserError("这条记录已撤回（本户已重新抽取），不能再填写。")


def _stale(ctx: Context, loaded: Loaded | RowsLoaded, seen: str | None) -> None:
    record = loaded.record
    if seen in (None, "") or str(seen) == str(record.draft_version):
        return
    last = record.draft_log[-1] if record.draft_log else None
    who = (
        f"{last['name']}已于 {last['at']} {last['action']}（{'、'.join(last['fields'][:6])}）"
        if last
        else "记录已被修改"
    )
    ctx.audit(
        "record.conflict",
        "inspection_record",
        record.id,
        detail={"reason": "stale_draft", "seen": seen, "current": record.draft_version},
    )
    raise Conflict(f"{who}，您看到的不是最新内容。卡片已更新为最新状态，请核对后再操作。", "stale")


def save_draft(ctx: Context, loaded: Loaded, values: dict[str, Any], *, seen: str | None) -> Outcome:
    """Store the team's shared draft (no validation: a draft may be incomplete)."""
    record = loaded.record
    records.require_member(ctx, loaded)
    _check_editable(loaded)
    _stale(ctx, loaded, seen)
    incoming = draft_values(values, len(record.items))
    changed = sorted(
        {
            field_label(record, k)
            for k, v in incoming.items()
            if record.draft.get(k, "" if not isinstance(v, list) else []) != v
        }
    )
    if not changed:
        return Outcome("unchanged", "内容没有变化。", loaded)
    before = record.draft
    record.draft = {**record.draft, **incoming}
    record.draft_version += 1
    record.updated_at = ctx.now
    _log(ctx, record, "保存草稿", changed)
    ctx.audit(
        "record.draft",
        "inspection_record",
        record.id,
        before={k: before.get(k) for k in incoming if before.get(k) != incoming[k]},
        after={k: v for k, v in incoming.items() if before.get(k) != v},
        detail={"draft_version": record.draft_version},
    )
    progress.started(ctx, loaded.task, record)
    return Outcome("saved", f"已保存草稿（{'、'.join(changed[:6])}），同组人员的卡片已同步更新。", loaded)


def form_ids(data: dict[str, Any]) -> dict[str, str]:
    """What a mobile form's JSON body says about itself, as ``prepare``/``submit`` take it: the
    submission id, the version it replaces and the draft version it was built on."""
    return {
        "submission_id": str(data.get("submission_id", "")),
        "deprecated_id": str(data.get("deprecated_id", "")),
        "seen": str(data.get("draft_version", "")),
    }


@dataclass
class Accepted:
    """A new version that passed every check, not yet stored (``prepare``, then ``apply``)."""

    values: dict[str, Any]
    submission_id: str
    deprecated_id: str
    digest: str
    via: str
    submitter_person_id: int
    current: Any  # the version it replaces (ORM or row), or None
    checked: rules.Outcome
    evidence_rows: list[Any]


class Moved(Exception):
    """``apply(guard=True)``: the record changed since it was read; nothing may be stored."""


def submit(
    ctx: Context,
    loaded: Loaded | RowsLoaded,
    values: dict[str, Any],
    *,
    submission_id: str,
    deprecated_id: str,
    seen: str | None,
    via: str,
) -> Outcome:
    """``loaded`` from ``lock`` (ORM objects) or ``rows.lock`` (plain rows): the same rules, and
    the writes go where the loaded record came from. The caller holds the task and record locks."""
    prepared = prepare(
        ctx, loaded, values, submission_id=submission_id, deprecated_id=deprecated_id, seen=seen, via=via
    )
    return prepared if isinstance(prepared, Outcome) else apply(ctx, loaded, prepared)


def prepare(
    ctx: Context,
    loaded: Loaded | RowsLoaded,
    values: dict[str, Any],
    *,
    submission_id: str,
    deprecated_id: str,
    seen: str | None,
    via: str,
) -> Outcome | Accepted:
    """Every check of a submission, writing nothing but the audit events of refusals: an
    ``Outcome`` (duplicate) to answer, or the ``Accepted`` version for ``apply``. Raises
    ``Conflict``, ``NotOnTeam`` (both audited) or ``UserError`` (per field, nothing written)."""
    store = _RowStore if isinstance(loaded, RowsLoaded) else _OrmStore
    record = loaded.record
    submission_id = submission_id.strip()
    if not submission_id or len(submission_id) > 64:
        raise UserError("这次提交缺少提交编号，请刷新卡片或表单后重试。")
    digest = rules.submission_hash(values)
    known = store.by_instance(ctx, loaded, submission_id)
    if known is not None:
        if known.record_id == record.id and known.content_hash == digest:
            return Outcome("duplicate", f"已收到（第{known.version}版），无需重复提交。", loaded, known)
        ctx.audit(
            "record.conflict",
            "inspection_record",
            record.id,
            detail={"reason": "instance_conflict", "instance_id": submission_id},
        )
        raise Conflict(
            "这个提交编号已经用过，但内容与已收到的不同，本次未保存。卡片已更新为最新状态，请核对后重新提交。",
            "409.1",
        )
    member = records.require_member(ctx, loaded)
    _check_editable(loaded)
    current = store.current(ctx, loaded)
    if current is not None:
        if not deprecated_id:
            raise Conflict(
                f"这条记录已由{person_name(ctx, current.submitted_by_person_id)}于 "
                f"{local(ctx, current.submitted_at).strftime('%m-%d %H:%M')} 提交（第{current.version}版）。"
                "如需修改，请点「修改结果」后再提交。",
                "409.9",
            )
        if deprecated_id != current.instance_id:
            ctx.audit(
                "record.conflict",
                "inspection_record",
                record.id,
                detail={
                    "reason": "deprecating_old",
                    "deprecated_id": deprecated_id,
                    "current": current.instance_id,
                },
            )
            raise Conflict(
                f"您修改的不是最新版本：记录已更新为第{current.version}版"
                f"（{person_name(ctx, current.submitted_by_person_id)}提交）。卡片已更新，请在最新版本上修改。",
                "409.9",
            )
        if digest == current.content_hash:
            return Outcome("duplicate", f"内容与第{current.version}版相同，无需重复提交。", loaded, current)
    elif deprecated_id:
        raise Conflict("要修改的版本不存在，卡片已更新为最新状态。", "409.9")
    _stale(ctx, loaded, seen)

    evidence_rows = store.evidence(ctx, loaded)
    checked = rules.check(values, records.rules_facts(ctx, loaded, evidence_rows))
    if not checked.ok:
        first = next(iter(checked.errors.values()))
        raise UserError(f"有 {len(checked.errors)} 处需要修改：{first}", fields=checked.errors)

    return Accepted(
        values,
        submission_id,
        deprecated_id,
        digest,
        via,
        member.inspector.person_id,
        current,
        checked,
        evidence_rows,
    )


def apply(ctx: Context, loaded: Loaded | RowsLoaded, accepted: Accepted, *, guard: bool = False) -> Outcome:
    """Store an accepted version: the version, the record, its ``results.issue`` job and the
    audit event. With ``guard`` (plain rows read without locks) the record is written only if it
    still holds what was read; else ``Moved`` is raised and the caller rolls back."""
    store = _RowStore if isinstance(loaded, RowsLoaded) else _OrmStore
    record = loaded.record
    submission_id, deprecated_id, digest, via = (
        accepted.submission_id,
        accepted.deprecated_id,
        accepted.digest,
        accepted.via,
    )
    checked, current, values = accepted.checked, accepted.current, accepted.values
    number = record.version + 1
    evidence = [row.id for row in accepted.evidence_rows]
    version = store.add_version(
        ctx,
        loaded,
        current,
        {
            "record_id": record.id,
            "version": number,
            "instance_id": submission_id,
            "deprecated_id": deprecated_id or None,
            "content": checked.content,
            "content_hash": digest,
            "evidence": evidence,
            "via": via,
            "current": True,
            "submitted_by_person_id": accepted.submitter_person_id,
            "submitted_at": ctx.now,
        },
    )
    before = {"state": record.state, "version": record.version}
    changes = {
        "state": "submitted",
        "version": number,
        "current_version_id": version.id,
        "submitted_at": ctx.now,
        "started_at": record.started_at or ctx.now,
        "return_reason": None,
        "draft": {**record.draft, **draft_values(values, len(record.items))},
        "draft_version": record.draft_version + 1,
        "draft_log": _logged(
            ctx, record, "提交" if number == 1 else f"提交修改（第{number}版）", ["全部事项"]
        ),
        "updated_at": ctx.now,
    }
    if guard:
        if not isinstance(record, RecordRow):  # pragma: no cover - the ORM path holds the record lock
            raise ValueError("a guarded update needs plain rows")
        written: Any = rows.update_guarded(ctx, record, changes)
    else:
        store.update_record(ctx, record, changes)
    issue.queue(ctx, record, version)
    # The audit append last. On SQLite it locks the chain's head row until the commit. On
    # PostgreSQL it waits for no answer (the connection's own chain, storage/chains.py), and the
    # lock that keeps audit ids in commit order is taken by the server in the COMMIT's message.
    ctx.audit(
        "record.submit" if number == 1 else "record.version",
        "inspection_record",
        record.id,
        before=before,
        after={"state": "submitted", "version": number},
        detail={
            "instance_id": submission_id,
            "deprecated_id": deprecated_id or None,
            "content_hash": digest,
            "via": via,
            "evidence": evidence,
            "warnings": checked.warnings,
        },
    )
    if guard and written is not None and written.first() is None:
        raise Moved(record.id)
    orders = len(failed_items(record, checked.content))
    if number == 1:
        documents = "现场检查记录、行政检查登记表" + (f"和 {orders} 份责令改正通知书" if orders else "")
        message = f"已提交第{number}版，结果已收到。正在生成{documents}"
    else:
        documents = "现场检查记录、行政检查登记表（原版本作废）"
        documents += "和改动事项的责令改正通知书" if orders else ""
        message = f"已提交第{number}版，结果已收到。正在重新生成{documents}"
    message += "，完成后发到检查组成员的单聊。"
    return Outcome("created", message, loaded, version, checked.warnings, accepted.evidence_rows)


def begin_edit(ctx: Context, loaded: Loaded) -> None:
    """修改结果: only checks who may; the card mints a new submission id naming the current version."""
    records.require_member(ctx, loaded)
    _check_editable(loaded)


def review(ctx: Context, loaded: Loaded, *, approve: bool, reason: str, seen: str) -> str:
    """The lead unit approves a submitted record, or returns it with a reason."""
    record, task = loaded.record, loaded.task
    tasks.require_lead_admin(ctx, task)
    if record.state != "submitted":
        raise Conflict(f"这条记录当前为「{publish_status(loaded)}」，不能审核。", "state")
    if str(seen) != str(record.version):
        raise Conflict(f"记录已更新为第{record.version}版，卡片已刷新，请查看最新内容后再审核。", "stale")
    before = {"state": record.state, "version": record.version}
    if approve:
        record.state = "reviewed"
        record.reviewed_at = ctx.now
        record.reviewed_by_person_id = ctx.person.id if ctx.person else None
        record.updated_at = ctx.now
        _log(ctx, record, "审核通过", [f"第{record.version}版"])
        ctx.audit("record.review", "inspection_record", record.id, before=before, after={"state": "reviewed"})
        progress.after_review(ctx, task)
        for hook in hooks.on_record_reviewed:
            hook(ctx, record)
        return f"已审核通过第{record.version}版。"
    reason = reason.strip()
    if not reason:
        raise UserError("退回时请写明理由。", fields={"reason": "请写明退回理由"})
    record.state = "returned"
    record.return_reason = reason[:300]
    record.updated_at = ctx.now
    _log(ctx, record, "退回修改", [reason[:40]])
    ctx.audit(
        "record.return",
        "inspection_record",
        record.id,
        before=before,
        after={"state": "returned"},
        detail={"reason": reason},
    )
    progress.after_return(ctx, task, record)
    return f"已退回第{record.version}版，检查组将修改后重新提交。"


def publish_status(loaded: Loaded) -> str:
    return status(loaded)


__all__ = ["Conflict", "NotOnTeam", "Outcome", "begin_edit", "lock", "review", "save_draft", "submit"]
