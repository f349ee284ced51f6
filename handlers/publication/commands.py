"""``公示 <任务编号> [渠道]``: the lead unit marks the task's finished results published."""

from __future__ import annotations

from bot.context import CommandContext
from bot.router import Router
from handlers.publication import reminders, service
from handlers.tasks import service as tasks
from storage.models import ROLE_UNIT_ADMIN


def publish_command(ctx: CommandContext) -> None:
    words = ctx.args.split(maxsplit=1)
    if not words:
        ctx.reply("请写明任务编号，例如：公示 丽综执联查〔2026〕1号 国家企业信用信息公示系统")
        return
    task = tasks.find(ctx.session, words[0], year=tasks.today(ctx).year)
    if task is None:
        ctx.reply(f"没有找到任务「{words[0]}」。")
        return
    tasks.require_lead_admin(ctx, task)
    rows = service.publish(ctx, task, words[1] if len(words) > 1 else "")
    late = sum(1 for r in rows if service.local_date(ctx) > r.due_date)
    tail = f"，其中 {late} 条超过公示期限" if late else ""
    ctx.reply(f"已登记 {task.number} 的 {len(rows)} 条检查结果公示（{rows[0].channel}）{tail}。")


def register(router: Router) -> None:
    router.command(
        "公示",
        summary="登记任务检查结果已公示（一公开）",
        usage="公示 <任务编号> [公示渠道]",
        roles=(ROLE_UNIT_ADMIN,),
        section="整改与处置",
    )(publish_command)
    router.on_due_batch(service.REMIND)(reminders.remind)
    router.on_due_batch(service.OVERDUE)(reminders.overdue)
