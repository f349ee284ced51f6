"""Chat commands (逾期, 整改 <编号>) and the rectification card's actions (登记送达, 当场改正,
提交复查结果)."""

from __future__ import annotations

from bot.context import CardContext, CardResult, CommandContext, UserError
from bot.router import Router
from handlers.followup import reminders, service, views
from handlers.followup.service import NotOnTeam, RecheckInput
from handlers.followup.states import RUNNING
from handlers.tasks import service as tasks
from storage.models import ROLE_INSPECTOR, ROLE_LEADER, ROLE_UNIT_ADMIN, Rectification

STAFF_ROLES = (ROLE_INSPECTOR, ROLE_UNIT_ADMIN, ROLE_LEADER)


def _rect(ctx: CardContext) -> Rectification:
    if ctx.card.entity_type != views.ENTITY or not ctx.card.entity_id:
        raise UserError("这张卡片不属于任何整改事项。")
    return service.lock(ctx, int(ctx.card.entity_id))


def _answer(ctx: CardContext, rect: Rectification, message: str) -> CardResult:
    params = views.refresh(ctx, rect, clicked=ctx.card.out_track_id, note=message)
    return CardResult(update=params, toast=message, readonly=rect.state not in RUNNING)


def serve_action(ctx: CardContext) -> CardResult:
    rect = _rect(ctx)
    try:
        when = service.parse_time(ctx, ctx.param("served_at"), ctx.now)
        message = service.serve(ctx, rect, ctx.param("method"), when)
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    return _answer(ctx, rect, message)


def on_spot_action(ctx: CardContext) -> CardResult:
    rect = _rect(ctx)
    try:
        message = service.close_on_spot(ctx, rect, ctx.param("note"))
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    return _answer(ctx, rect, message)


def recheck_action(ctx: CardContext) -> CardResult:
    rect = _rect(ctx)
    values = RecheckInput(
        inspected_at=ctx.param("inspected_at"),
        inspectors=[v for v in ctx.param("inspectors").split(",") if v.strip()],
        outcome=ctx.param("outcome"),
        facts=ctx.param("facts"),
        next_step=ctx.param("next_step"),
        target=ctx.param("target"),
        reason=ctx.param("reason"),
    )
    try:
        message = service.recheck(ctx, rect, values)
    except NotOnTeam as refused:
        return CardResult(toast=refused.message)
    return _answer(ctx, rect, message)


def _units(ctx: CommandContext) -> set[int]:
    person = ctx.person
    units = tasks.admin_unit_ids(person)
    if person is not None and person.unit_id is not None:
        units.add(person.unit_id)
    return units


def overdue_command(ctx: CommandContext) -> None:
    units = _units(ctx)
    if not units:
        ctx.reply("您还没有登记所属单位，无法列出整改事项。")
        return
    ctx.reply_markdown("整改跟踪", views.listing(ctx, units))


def show_command(ctx: CommandContext) -> None:
    if not ctx.args:
        ctx.reply("请写明责令改正通知书编号，例如：整改 丽综执责改〔2026〕3号（或今年的序号 3）。")
        return
    rect = service.find(ctx, ctx.args)
    if rect is None:
        ctx.reply(f"没有找到编号为「{ctx.args}」的责令改正通知书。")
        return
    ctx.reply_markdown("整改详情", views.summary(ctx, rect))


def register(router: Router) -> None:
    router.command(
        "逾期",
        summary="本单位复查逾期、待复查和即将到期的整改事项",
        roles=STAFF_ROLES,
        section="整改与处置",
    )(overdue_command)
    router.command(
        "整改",
        summary="查看一项责令改正的办理情况",
        usage="整改 <通知书编号或今年序号>",
        roles=STAFF_ROLES,
        section="整改与处置",
    )(show_command)
    router.card_action("rectification_card", "serve")(serve_action)
    router.card_action("rectification_card", "on_spot")(on_spot_action)
    router.card_action("rectification_card", "recheck")(recheck_action)
    router.on_due_batch(service.DUE_SOON)(reminders.due_soon)
    router.on_due_batch(service.DEADLINE)(reminders.deadline)
    router.on_due_batch(service.OVERDUE)(reminders.overdue)
