"""Card actions, due items and the dispatch hooks of the results capability."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.context import CardContext, CardResult, Context, TickContext, UserError, Users
from bot.router import Router
from handlers.results import publish, records, service
from handlers.results.records import NotOnTeam
from handlers.results.service import Conflict
from handlers.results.views import ENTITY, REVIEW_ENTITY, card_params
from handlers.tasks import service as tasks
from storage.models import Assignment, AssignmentMember, InspectionObject
from storage.models.tasks import Task

WINDOW_OPEN = "results.window_open"
LIVE_TASK = ("dispatched", "in_progress", "submitted")


# -- dispatch hooks -----------------------------------------------------------------------------
def on_accepted(ctx: Context, task: Task, assignment: Assignment, member: AssignmentMember) -> None:
    """The member accepted: open the record (first acceptance) and send them the result card."""
    record, created = records.open_record(ctx, task, assignment)
    loaded = records.load(ctx, record, task=task)
    mine = next((m for m in loaded.team if m.member.id == member.id), None)
    if mine is None:
        return
    if not created:
        publish.refresh_cards(ctx, loaded)  # the team list on the others' copies
    publish.send_result_card(ctx, loaded, mine)
    zone = ZoneInfo(ctx.settings.timezone)
    opens = datetime.combine(task.window_start, time(ctx.settings.result_window_open_hour), tzinfo=zone)
    if opens > ctx.now:
        ctx.schedule(WINDOW_OPEN, f"member:{member.id}", opens, key=f"results:open:{member.id}")


def on_withdrawn(ctx: Context, task: Task, assignment: Assignment, reason: str) -> None:
    record = records.for_assignment(ctx.session, assignment.id)
    if record is None or record.state == "withdrawn":
        return
    before = record.state
    record.state = "withdrawn"
    record.updated_at = ctx.now
    ctx.audit(
        "record.withdraw",
        "inspection_record",
        record.id,
        before={"state": before},
        after={"state": "withdrawn"},
        detail={"reason": reason},
    )
    publish.refresh_cards(ctx, records.load(ctx, record, task=task))


def window_open(ctx: TickContext, item: Any) -> None:
    """On the window's first morning, send the accepted member a fresh copy of the card."""
    member = ctx.session.get(AssignmentMember, int(str(item.ref).split(":")[1]))
    if member is None or member.state != "accepted":
        return
    assignment = ctx.session.get(Assignment, member.assignment_id)
    if assignment is None or assignment.state != "dispatched":
        return
    task = tasks.lock(ctx.session, assignment.task_id)
    record = records.for_assignment(ctx.session, assignment.id)
    if task.state not in LIVE_TASK or record is None or record.state not in ("draft", "returned"):
        return
    loaded = records.load(ctx, record, task=task)
    mine = next((m for m in loaded.team if m.member.id == member.id), None)
    if mine is None or mine.staff_id is None:
        return
    publish.send_result_card(ctx, loaded, mine, suffix="-w")
    obj = ctx.session.get(InspectionObject, assignment.object_id)
    ctx.send_text(
        Users.of(mine.staff_id),
        f"【检查提醒】{task.number} 的检查时间今天开始（{task.window_start.isoformat()} 至 "
        f"{task.window_end.isoformat()}）。「{obj.name if obj else ''}」的结果卡片已重新发给您，到现场后请填写并提交。",
        key=f"results:open:{member.id}:text",
    )


# -- card actions -------------------------------------------------------------------------------
def _record_id(ctx: CardContext, entity: str) -> int:
    if ctx.card.entity_type != entity or not ctx.card.entity_id:
        raise UserError("这张卡片不属于任何检查记录。")
    return int(ctx.card.entity_id)


def _answer(
    ctx: CardContext,
    loaded: records.Loaded,
    toast: str,
    *,
    everyone: bool = True,
    remint: bool = False,
    editing: bool | None = None,
    note: str = "",
) -> CardResult:
    clicked = ctx.card.out_track_id
    if everyone:
        params = publish.refresh_cards(
            ctx, loaded, clicked=clicked, remint=remint, editing=editing, clicked_note=note
        )
    else:
        staff = ctx.card.audience[0] if ctx.card.audience else ctx.staff_id
        member = next((m for m in loaded.team if m.staff_id == staff), None)
        person = member.inspector.person_id if member else (ctx.person.id if ctx.person else 0)
        params = card_params(
            ctx, loaded, person, ctx.card.params, remint=remint, editing=editing, extra_note=note
        )
    readonly = loaded.record.state in publish.READONLY_STATES
    return CardResult(update=params, toast=toast, readonly=readonly)


def save_action(ctx: CardContext) -> CardResult:
    loaded = service.lock(ctx, _record_id(ctx, ENTITY))
    try:
        outcome = service.save_draft(ctx, loaded, dict(ctx.params), seen=ctx.param("draft_version"))
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    except Conflict as conflict:
        return _answer(ctx, loaded, conflict.message, everyone=False)
    if outcome.kind == "unchanged":
        return CardResult(toast=outcome.message)
    return _answer(ctx, loaded, outcome.message)


def submit_action(ctx: CardContext) -> CardResult:
    loaded = service.lock(ctx, _record_id(ctx, ENTITY))
    values = dict(ctx.params)
    if ctx.action_id == "all_pass":
        values["all_pass"] = "true"
    try:
        outcome = service.submit(
            ctx,
            loaded,
            values,
            submission_id=ctx.param("submission_id"),
            deprecated_id=ctx.param("deprecated_id"),
            seen=ctx.param("draft_version"),
            via="card",
        )
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    except Conflict as conflict:
        return _answer(ctx, loaded, conflict.message, everyone=False, editing=False)
    if outcome.kind == "duplicate":
        return _answer(ctx, loaded, outcome.message, everyone=False)
    # Only the clicked copy is answered now; the version's job (handlers/results/issue.py)
    # refreshes the other copies, the review cards and the task card with the documents.
    note = "\n".join(f"⚠ {w}" for w in outcome.warnings)
    toast = outcome.message + ("（" + outcome.warnings[0] + "）" if outcome.warnings else "")
    return _answer(ctx, loaded, toast, everyone=False, remint=True, editing=False, note=note)


def edit_action(ctx: CardContext) -> CardResult:
    loaded = service.lock(ctx, _record_id(ctx, ENTITY))
    try:
        service.begin_edit(ctx, loaded)
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    return _answer(
        ctx,
        loaded,
        f"请修改后提交，提交后保存为第{loaded.record.version + 1}版，原版本留存。",
        everyone=False,
        remint=True,
        editing=True,
    )


def review_action(ctx: CardContext) -> CardResult:
    loaded = service.lock(ctx, _record_id(ctx, REVIEW_ENTITY))
    approve = ctx.action_id == "approve"
    try:
        toast = service.review(
            ctx, loaded, approve=approve, reason=ctx.param("reason"), seen=ctx.param("version")
        )
    except Conflict as conflict:
        return CardResult(
            update=publish.refresh_review_cards(ctx, loaded, clicked=ctx.card.out_track_id),
            toast=conflict.message,
        )
    publish.refresh_cards(ctx, loaded, remint=True)
    if not approve:
        staff = loaded.accepted_staff
        if staff:
            ctx.send_text(
                Users(tuple(staff)),
                f"【结果退回】{loaded.task.number}「{loaded.obj.name}」的检查结果被牵头单位退回，理由："
                f"{loaded.record.return_reason}。请在结果卡片上修改后重新提交。",
                key=f"results:return:{loaded.record.id}:{loaded.record.version}",
            )
    tasks.publish_card(ctx, loaded.task)
    note = f"{'审核通过' if approve else '已退回'}：{ctx.person.name if ctx.person else ''}"
    params = publish.refresh_review_cards(ctx, loaded, clicked=ctx.card.out_track_id, note=note)
    return CardResult(update=params, toast=toast, readonly=True)


def register(router: Router) -> None:
    router.card_action("result_card", "save")(save_action)
    router.card_action("result_card", "submit", "all_pass")(submit_action)
    router.card_action("result_card", "edit")(edit_action)
    router.card_action("result_review", "approve", "reject")(review_action)
    router.on_due(WINDOW_OPEN)(window_open)


__all__ = ["on_accepted", "on_withdrawn", "register"]
