"""Chat commands, card actions, due-item handlers and task hooks of the draw-and-dispatch capability."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.context import CardContext, CardResult, CommandContext, Context, Group, TickContext, UserError
from bot.router import Router
from handlers.draw import dispatch, service
from handlers.draw.publish import publish_draw_card, refresh
from handlers.draw.verify import report, verify_task
from handlers.tasks import service as tasks
from storage.models import ROLE_UNIT_ADMIN, DrawRecord
from storage.models.tasks import Task

ADMIN = (ROLE_UNIT_ADMIN,)
_SLOT = re.compile(r"^第?\s*(\d+)\s*户?$")


# -- task hooks ---------------------------------------------------------------------------------
def on_approved(ctx: Context, task: Task) -> None:
    """Draw right after approval, in the approving transaction. A failed draw does not undo the
    approval: it is recorded and explained, and the lead unit draws again once it has fixed the
    directory (「抽取 编号」)."""
    savepoint = ctx.session.begin_nested()
    try:
        service.draw_task(ctx, task)
    except service.DrawFailed as failure:
        savepoint.rollback()
        ctx.audit("draw.failed", "task", task.id, detail={"message": failure.message})
        text = f"【抽取未完成】{failure.message}修正后，牵头单位管理员可在群内发送「抽取 {task.number}」重新抽取。"
        if task.conversation_id:
            ctx.send_text(Group(task.conversation_id), text, key=f"draw:{task.id}:failed:{ctx.event_key}")
        return
    savepoint.commit()
    refresh(ctx, task)


def on_cancelled(ctx: Context, task: Task) -> None:
    exists = ctx.session.execute(select(DrawRecord.id).where(DrawRecord.task_id == task.id).limit(1)).first()
    if exists is not None:
        publish_draw_card(ctx, task)


# -- helpers ------------------------------------------------------------------------------------
def _task_from_card(ctx: CardContext) -> Task:
    if ctx.card.entity_type != "task" or not ctx.card.entity_id:
        raise UserError("这张卡片不属于任何任务。")
    return tasks.lock(ctx.session, int(ctx.card.entity_id))


def _task_from_text(ctx: CommandContext, reference: str) -> Task:
    if not reference:
        raise UserError("请写明任务编号，例如：丽综执联查〔2026〕12号，或今年的序号 12。")
    found = tasks.find(ctx.session, reference, year=tasks.today(ctx).year)
    if found is None:
        raise UserError(f"找不到任务「{reference}」。")
    return tasks.lock(ctx.session, found.id)


def _member_id(ctx: CardContext) -> int:
    if ctx.card.entity_type != "assignment_member" or not ctx.card.entity_id:
        raise UserError("这张卡片不是派单卡片。")
    return int(ctx.card.entity_id)


def redraw(ctx: Context, task: Task, slot_text: str, reason: str) -> str:
    """Redraw one slot (any time until the check starts) or everything (before dispatch)."""
    tasks.require_lead_admin(ctx, task)
    if not reason:
        raise UserError("请写明重新抽取的理由。", fields={"reason": "请写明理由"})
    try:
        if slot_text:
            match = _SLOT.match(slot_text.strip())
            if match is None:
                raise UserError("请填写要重新抽取的户序号（数字）。", fields={"slot": "请填写数字"})
            old, new, _ = service.redraw_slot(ctx, task, int(match.group(1)), reason)
            if task.state == "dispatched":
                dispatch.withdraw_assignment(ctx, task, old, reason)
                dispatch.dispatch_new_assignment(ctx, task, new)
            return f"已重新抽取第 {new.slot} 户，原抽取记录已留存。"
        if task.state != "approved":
            raise UserError("任务已分发，不能整体重新抽取；如需调整，请填写户序号逐户重新抽取。")
        service.draw_task(ctx, task, reason=reason)
        return "已整体重新抽取，原抽取记录已留存。"
    except service.DrawFailed as failure:
        raise UserError(failure.message) from None


# -- registration -------------------------------------------------------------------------------
def register(router: Router) -> None:
    def dispatch_action(ctx: CardContext) -> CardResult:
        task = _task_from_card(ctx)
        sent = dispatch.dispatch_task(ctx, task, overcap_reason=ctx.param("overcap_reason"))
        return CardResult(update=refresh(ctx, task), toast=f"已分发：向 {sent} 名检查人员发送了派单。")

    router.card_action("draw_card", "dispatch", roles=ADMIN)(dispatch_action)
    router.card_action("draw_card", "dispatch_overcap", roles=ADMIN)(dispatch_action)

    @router.card_action("draw_card", "redraw", roles=ADMIN)
    def redraw_action(ctx: CardContext) -> CardResult:
        task = _task_from_card(ctx)
        toast = redraw(ctx, task, ctx.param("slot"), ctx.param("reason"))
        return CardResult(update=refresh(ctx, task), toast=toast)

    @router.card_action("dispatch_card", "accept")
    def accept_action(ctx: CardContext) -> CardResult:
        return dispatch.accept(ctx, _member_id(ctx))

    @router.card_action("dispatch_card", "decline")
    def decline_action(ctx: CardContext) -> CardResult:
        return dispatch.decline(ctx, _member_id(ctx), ctx.param("reason"), ctx.param("decline_note"))

    @router.command(
        "抽取",
        summary="牵头单位为已批准的任务抽取检查对象和检查人员（批准后会自动抽取一次）",
        usage="抽取 <任务编号>",
        roles=ADMIN,
        section="抽取与分发",
    )
    def draw_command(ctx: CommandContext) -> None:
        task = _task_from_text(ctx, ctx.args)
        tasks.require_lead_admin(ctx, task)
        if service.active_assignments(ctx.session, task.id):
            raise UserError(f"{task.number} 已有抽取结果。如需重新抽取，请在抽取结果卡片上填写理由。")
        try:
            row = service.draw_task(ctx, task)
        except service.DrawFailed as failure:
            raise UserError(failure.message) from None
        refresh(ctx, task)
        ctx.reply(f"{task.number} 已抽取 {len(row.result['slots'])} 户，结果已发到任务所在的工作群。")

    @router.command(
        "重新抽取",
        summary="牵头单位重新抽取：整体（分发前）或某一户，须写明理由，原记录留存",
        usage="重新抽取 <任务编号> [第N户] <理由>",
        roles=ADMIN,
        section="抽取与分发",
    )
    def redraw_command(ctx: CommandContext) -> None:
        parts = ctx.args.split()
        if not parts:
            raise UserError("请写明任务编号和理由，例如：重新抽取 丽综执联查〔2026〕12号 第3户 该户已停业")
        task = _task_from_text(ctx, parts[0])
        slot = parts[1] if len(parts) > 2 and _SLOT.match(parts[1]) else ""
        reason = " ".join(parts[2:] if slot else parts[1:])
        ctx.reply(f"{task.number}：{redraw(ctx, task, slot, reason)}")
        refresh(ctx, task)

    @router.command(
        "核验抽取",
        summary="用留存的快照和随机种子重算任务的每一次抽取，核对是否一致",
        usage="核验抽取 <任务编号>",
        section="抽取与分发",
    )
    def verify_command(ctx: CommandContext) -> None:
        found = tasks.find(ctx.session, ctx.args, year=tasks.today(ctx).year) if ctx.args else None
        if found is None:
            raise UserError("请写明要核验的任务编号，例如：核验抽取 丽综执联查〔2026〕12号")
        _ok, text = report(found, verify_task(ctx.session, found))
        ctx.reply(text)

    def _due_task(ctx: TickContext, item: Any) -> Task | None:
        task = ctx.session.get(Task, int(str(item.ref).split(":")[1]))
        if task is None or task.state not in ("dispatched", "in_progress"):
            return None
        return task

    @router.on_due(dispatch.REMIND)
    def remind_due(ctx: TickContext, item: Any) -> None:
        task = _due_task(ctx, item)
        if task is not None:
            dispatch.remind(ctx, task)

    @router.on_due(dispatch.ESCALATE)
    def escalate_due(ctx: TickContext, item: Any) -> None:
        task = _due_task(ctx, item)
        if task is not None:
            dispatch.escalate(ctx, task)
