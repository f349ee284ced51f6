"""Chat commands and card actions for posting, negotiating and approving joint tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from bot.context import CardContext, CardResult, CommandContext, Group, TickContext, UserError, Users
from bot.router import Router
from cards.tasks import approval_card, create_form, create_form_done
from handlers.tasks import service
from handlers.tasks.proposal import Choice, from_form, parse_date, parse_one_line
from handlers.tasks.states import OPEN_STATES, STATE_LABELS
from storage.models import ROLE_UNIT_ADMIN, AuditEvent, Scenario, Theme
from storage.models.tasks import Task, TaskAnswer, TaskUnit

ADMIN = (ROLE_UNIT_ADMIN,)


def _choices(ctx: CommandContext | CardContext) -> tuple[list[Choice], list[Choice]]:
    units = service.admin_unit_ids(ctx.person)
    scenarios = list(
        ctx.session.execute(
            select(Scenario)
            .where(Scenario.lead_unit_id.in_(units), Scenario.active.is_(True))
            .order_by(Scenario.id)
        ).scalars()
    )
    themes = list(
        ctx.session.execute(select(Theme).where(Theme.active.is_(True)).order_by(Theme.id)).scalars()
    )
    scenario_choices = [Choice(s.id, s.name) for s in scenarios]
    theme_choices = [Choice(t.id, t.name, tuple(ts.scenario_id for ts in t.scenarios)) for t in themes]
    return scenario_choices, theme_choices


def _created_summary(task: Task, notes: list[str]) -> str:
    lines = [f"已创建 **{task.number}**（{task.scenario.name}），并在本群发起第 {task.round} 轮线上磋商。"]
    lines += notes
    return "\n\n".join(lines)


def register(router: Router) -> None:
    @router.command(
        "发起检查",
        "发起任务",
        summary="牵头单位发起联合检查任务（不带参数时发送填写卡片）",
        usage="发起检查 [场景 数量 开始至结束 检查方式]",
        roles=ADMIN,
        where="group",
        section="任务",
    )
    def post_task(ctx: CommandContext) -> None:
        scenarios, themes = _choices(ctx)
        if not scenarios:
            raise UserError("您所在单位没有牵头的检查场景，不能发起任务。发送「场景」查看场景清单。")
        if not ctx.args:
            today = service.today(ctx)
            own_themes = [(t.id, t.name) for t in themes if any(s.id in t.scenario_ids for s in scenarios)]
            params = create_form(
                scenarios=[(s.id, s.name) for s in scenarios],
                themes=own_themes,
                start_default=(today + timedelta(days=7)).isoformat(),
                end_default=(today + timedelta(days=11)).isoformat(),
                requester=ctx.person.name if ctx.person else "",
            )
            ctx.send_card(
                "task_create",
                f"task-create-{ctx.event_key.split(':', 1)[1]}",
                Group(ctx.conversation_id),
                params,
                audience=[ctx.staff_id or ""],
            )
            return
        proposal, errors = parse_one_line(
            ctx.args, today=service.today(ctx), scenarios=scenarios, themes=themes
        )
        if proposal is None:
            raise UserError("没有发起任务：\n" + "\n".join(f"- {e}" for e in errors))
        task, notes = service.create(ctx, proposal, conversation_id=ctx.conversation_id)
        ctx.reply(_created_summary(task, notes).replace("**", ""))

    @router.card_action("task_create", "create", roles=ADMIN)
    def create_from_card(ctx: CardContext) -> CardResult:
        params = {name: ctx.param(name) for name in ctx.params}
        proposal, problems = from_form(params, today=service.today(ctx))
        if problems:
            raise UserError("；".join(problems.values()), fields=problems)
        task, notes = service.create(ctx, proposal, conversation_id=ctx.card.space_id)
        return CardResult(update=create_form_done(_created_summary(task, notes)), readonly=True)

    def _task_of(ctx: CardContext) -> Task:
        if ctx.card.entity_type != "task" or not ctx.card.entity_id:
            raise UserError("这张卡片不属于任何任务。")
        task = service.lock(ctx.session, int(ctx.card.entity_id))
        service.check_version(task, ctx.param("version"))
        return task

    def _answer(decision: str) -> Any:
        def handle(ctx: CardContext) -> CardResult:
            task = _task_of(ctx)
            changes: dict[str, Any] = {}
            for field, key in (("new_window_start", "window_start"), ("new_window_end", "window_end")):
                if ctx.param(field):
                    try:
                        changes[key] = parse_date(ctx.param(field), service.today(ctx)).isoformat()
                    except ValueError as exc:
                        raise UserError(str(exc), fields={field: str(exc)}) from None
            if ctx.param("new_count"):
                if not ctx.param("new_count").isdigit():
                    raise UserError("建议对象数量应填写整数。", fields={"new_count": "请填写整数"})
                changes["count"] = int(ctx.param("new_count"))
            unit = service.answer(ctx, task, decision, comment=ctx.param("comment"), changes=changes)
            update = service.publish_card(ctx, task)
            return CardResult(
                update=update,
                toast=f"已记录{unit.unit.name}的意见：{service.UNIT_STATE_LABELS[unit.state]}。",
            )

        return handle

    router.card_action("task_card", "agree", roles=ADMIN)(_answer("agree"))
    router.card_action("task_card", "change", roles=ADMIN)(_answer("change"))
    router.card_action("task_card", "decline", roles=ADMIN)(_answer("decline"))

    @router.card_action("task_card", "confirm", roles=ADMIN)
    def confirm(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        approver = service.confirm(ctx, task)
        update = service.publish_card(ctx, task)
        return CardResult(update=update, toast=f"已报送{approver.name}审批。")

    @router.card_action("task_card", "drop", roles=ADMIN)
    def drop(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        unit = ctx.param("drop_unit")
        if not unit.isdigit():
            raise UserError("请选择要移出的单位。", fields={"drop_unit": "请选择单位"})
        service.drop(ctx, task, int(unit), ctx.param("drop_reason"))
        return CardResult(update=service.publish_card(ctx, task), toast="已移出该单位。")

    @router.card_action("task_card", "resend", roles=ADMIN)
    def resend(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        edits: dict[str, Any] = {}
        for field, key in (("edit_window_start", "window_start"), ("edit_window_end", "window_end")):
            if ctx.param(field):
                try:
                    edits[key] = parse_date(ctx.param(field), service.today(ctx))
                except ValueError as exc:
                    raise UserError(str(exc), fields={field: str(exc)}) from None
        if ctx.param("edit_count"):
            if not ctx.param("edit_count").isdigit():
                raise UserError("对象数量应填写整数。", fields={"edit_count": "请填写整数"})
            edits["count"] = int(ctx.param("edit_count"))
        service.resend(ctx, task, edits, ctx.param("edit_remarks"))
        return CardResult(update=service.publish_card(ctx, task), toast=f"已发起第 {task.round} 轮磋商。")

    @router.card_action("task_card", "cancel", roles=ADMIN)
    def cancel(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        service.cancel(ctx, task, ctx.param("cancel_reason"))
        return CardResult(update=service.publish_card(ctx, task), toast="任务已撤销。", readonly=True)

    @router.card_action("task_approval", "approve")
    def approve(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        service.approve(ctx, task)
        params = approval_card(
            service.view(task),
            pending=False,
            status="已批准",
            note=f"{ctx.person.name if ctx.person else ''}已批准。",
        )
        return CardResult(update=params, toast="已批准。", readonly=True)

    @router.card_action("task_approval", "return")
    def return_(ctx: CardContext) -> CardResult:
        task = _task_of(ctx)
        reason = ctx.param("reason")
        service.return_(ctx, task, reason)
        params = approval_card(service.view(task), pending=False, status="已退回", note=f"退回理由：{reason}")
        return CardResult(update=params, toast="已退回牵头单位。", readonly=True)

    @router.command(
        "撤销任务",
        summary="牵头单位撤销尚未分发的任务",
        usage="撤销任务 <编号> <理由>",
        roles=ADMIN,
        section="任务",
    )
    def cancel_command(ctx: CommandContext) -> None:
        reference, _, reason = ctx.args.partition(" ")
        if not reference:
            raise UserError("请写明任务编号和理由，例如：撤销任务 丽综执联查〔2026〕12号 天气原因改期")
        task = service.find(ctx.session, reference, year=service.today(ctx).year)
        if task is None:
            raise UserError(f"找不到任务「{reference}」。")
        task = service.lock(ctx.session, task.id)
        service.cancel(ctx, task, reason.strip())
        ctx.reply(f"{task.number} 已撤销。")

    @router.command(
        "任务",
        "我的任务",
        summary="查看本单位的任务；带编号时查看一个任务及其经过",
        usage="任务 [编号]",
        roles=(),
        section="任务",
    )
    def tasks_view(ctx: CommandContext) -> None:
        if ctx.args:
            task = service.find(ctx.session, ctx.args, year=service.today(ctx).year)
            if task is None:
                raise UserError(
                    f"找不到任务「{ctx.args}」。请写完整编号，例如 丽综执联查〔2026〕12号，或今年的序号 12。"
                )
            ctx.reply_markdown(task.number, _task_detail(ctx, task))
            return
        ctx.reply_markdown("本单位的任务", _task_list(ctx))

    @router.on_due("task.negotiation_remind")
    def remind(ctx: TickContext, item: Any) -> None:
        task = ctx.session.get(Task, int(item.ref.split(":")[1]))
        if task is None or task.state != "negotiating" or task.round != item.payload.get("round"):
            return
        pending = [u for u in task.units if u.state == "pending"]
        staff = service.staff_of(ctx, service.unit_admins(ctx.session, [u.unit_id for u in pending]))
        if staff:
            ctx.send_text(
                Users(tuple(staff)),
                f"【磋商提醒】{task.number}（{task.scenario.name}）尚待贵单位答复，请在工作群的任务卡片上选择同意、提出修改或不参与。",
                key=f"{item.dedupe_key}:sent",
            )

    @router.on_due("task.negotiation_stalled")
    def stalled(ctx: TickContext, item: Any) -> None:
        task = ctx.session.get(Task, int(item.ref.split(":")[1]))
        if task is None or task.state != "negotiating" or task.round != item.payload.get("round"):
            return
        waiting = [u.unit.name for u in task.units if u.state == "pending"]
        if not waiting:
            return
        staff = service.staff_of(ctx, service.unit_admins(ctx.session, [task.lead_unit_id]))
        text = (
            f"【磋商停滞】{task.number} 第 {task.round} 轮磋商已超过 {ctx.settings.negotiation_stall_hours:g} 小时，"
            f"{'、'.join(waiting)} 仍未答复。请牵头单位联系对方，或移出、撤销。"
        )
        if staff:
            ctx.send_text(Users(tuple(staff)), text, key=f"{item.dedupe_key}:lead")
        ctx.audit(
            "task.negotiation_stalled", "task", task.id, detail={"round": task.round, "waiting": waiting}
        )


def _task_list(ctx: CommandContext) -> str:
    units = service.admin_unit_ids(ctx.person)
    if ctx.person is not None and ctx.person.unit_id:
        units.add(ctx.person.unit_id)
    if not units:
        return "您没有所属单位，暂无任务。"
    involved = select(TaskUnit.task_id).where(TaskUnit.unit_id.in_(units))
    tasks = list(
        ctx.session.execute(
            select(Task)
            .where(or_(Task.lead_unit_id.in_(units), Task.id.in_(involved)))
            .order_by(Task.id.desc())
            .limit(60)
        ).scalars()
    )
    if not tasks:
        return "本单位暂无任务。牵头单位管理员可在工作群 @我 发送「发起检查」。"
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(task.state, []).append(task)
    lines = []
    for state in (*sorted(OPEN_STATES, key=lambda s: list(STATE_LABELS).index(s)), "closed", "cancelled"):
        if state in groups:
            lines.append(f"**{STATE_LABELS[state]}（{len(groups[state])}）**")
            lines += [
                f"- {t.number} {t.scenario.name} {t.window_start.isoformat()}至{t.window_end.isoformat()}"
                for t in groups[state][:10]
            ]
    lines.append("\n发送「任务 编号」查看详情。")
    return "\n".join(lines)


AUDIT_LABELS = {
    "task.create": "创建任务",
    "task.submit": "发起磋商",
    "task.answer": "协同单位答复",
    "task.request_change": "提出修改，退回草稿",
    "task.revise": "牵头单位修改",
    "task.drop_unit": "移出单位",
    "task.confirm": "确认并报送审批",
    "task.approve": "批准",
    "task.return": "审批退回",
    "task.cancel": "撤销",
    "task.negotiation_stalled": "磋商停滞提醒",
    "task.dispatch": "一键分发",
    "task.start": "开始检查",
    "task.submit_results": "检查结果全部提交",
    "task.reject_review": "结果退回",
    "task.review": "审核通过",
    "task.close": "办结",
    "draw.full": "双随机抽取",
    "draw.redraw": "重新抽取",
    "draw.slot": "单个对象重新抽取",
    "draw.failed": "抽取失败（人员不足）",
    "draw.replacement": "补抽检查人员",
    "draw.replacement_failed": "补抽失败",
    "dispatch.accept": "检查人员接受任务",
    "dispatch.decline": "检查人员无法参加",
    "dispatch.remind": "分发提醒",
    "dispatch.escalate": "未答复，已告知牵头单位",
    "dispatch.overdue": "分发答复超时",
    "prenotice.served": "送达检查通知书",
    "document.issue": "制发文书",
}


def _task_detail(ctx: CommandContext, task: Task) -> str:
    lines = [f"**{task.number}｜{task.scenario.name}**", f"状态：{STATE_LABELS[task.state]}"]
    lines += [f"- {label}：{value}" for label, value in service.proposal_fields(task)]
    if task.units:
        lines.append("协同单位：")
        lines += [
            f"- {row.unit}：{row.state}{('，' + row.comment) if row.comment else ''}"
            for row in service.unit_rows(task)
        ]
    events = list(
        ctx.session.execute(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "task", AuditEvent.entity_id == str(task.id))
            .order_by(AuditEvent.id)
        ).scalars()
    )
    answers = {
        a.id: a
        for a in ctx.session.execute(select(TaskAnswer).where(TaskAnswer.task_id == task.id)).scalars()
    }
    if events:
        lines.append("经过：")
        tz = ZoneInfo(ctx.settings.timezone)
        for event in events:
            when = event.at.astimezone(tz).strftime("%m-%d %H:%M")
            lines.append(f"- {when} {AUDIT_LABELS.get(event.action, event.action)}")
    lines.append(f"共 {len(answers)} 次答复记录（含被替换的答复）。")
    return "\n".join(lines)
