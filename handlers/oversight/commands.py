"""Chat commands: 进度 (my unit's progress), 通报 (a leader posts the bulletin now), 看板 (a
login link to the progress page)."""

from __future__ import annotations

from bot.context import CommandContext, Group, UserError, Users
from bot.router import Router
from handlers.oversight import bulletin, links
from handlers.oversight.periods import range_label
from storage.models.platform import ROLE_AUDITOR, ROLE_LEADER, ROLE_UNIT_ADMIN, Unit

SECTION = "通报与看板"
DASHBOARD_ROLES = (ROLE_LEADER, ROLE_UNIT_ADMIN, ROLE_AUDITOR)


def progress(ctx: CommandContext) -> None:
    """进度: the caller's unit (the whole bureau for someone of the bureau itself or a leader
    without a unit)."""
    person = ctx.person
    unit = ctx.session.get(Unit, person.unit_id) if person is not None and person.unit_id else None
    leader = person is not None and person.has_role(ROLE_LEADER)
    if unit is None and not leader:
        raise UserError("您还没有登记所在单位，无法查看单位进度。请联系本单位管理员登记。")
    if unit is None or unit.kind == "bureau":
        _bureau_now(ctx, to=[ctx.here], kind="progress")
        return
    try:
        built = bulletin.build_progress(ctx, unit.id, unit.name)
    except LookupError:
        raise UserError(f"{unit.name}不在通报的单位范围内（已停用）。") from None
    bulletin.store_and_send(
        ctx, built, kind="progress", period_key=f"progress:{ctx.event_key}", to=[ctx.here], unit_id=unit.id
    )


def post_now(ctx: CommandContext) -> None:
    """通报: build the bureau bulletin up to now and post it to the leadership group(s)."""
    groups = bulletin.leadership_groups(ctx)
    if not groups:
        _bureau_now(ctx, to=[ctx.here], kind="manual")
        ctx.reply("尚未设置领导工作群，本次通报发在这里。请系统管理员将领导工作群的用途设为「leadership」。")
        return
    _bureau_now(ctx, to=[Group(g) for g in groups], kind="manual")
    if not (ctx.is_group and ctx.conversation_id in groups):
        ctx.reply(f"已将截至现在的工作进度通报发送到领导工作群（{len(groups)} 个）。")


def _bureau_now(ctx: CommandContext, *, to: list[Group | Users], kind: str) -> None:
    tz = ctx.settings.timezone
    period = bulletin.on_demand_period(ctx)
    built = bulletin.build_bureau(
        ctx,
        period,
        title="「综合查一次」工作进度通报（即时）",
        subtitle=f"统计期间：{range_label(period, tz)}（自上期通报以来），{bulletin.as_of_text(period.end, tz)}",
    )
    bulletin.store_and_send(ctx, built, kind=kind, period_key=f"{kind}:{ctx.event_key}", to=to)


def dashboard_link(ctx: CommandContext) -> None:
    """看板: a signed, expiring login link, always in the caller's 1:1 chat (it logs in as them)."""
    person = ctx.person
    if person is None or not ctx.staff_id:
        raise UserError("无法确认您的身份。")
    token = links.sign(ctx.settings, person.id, ctx.now)
    hours = f"{ctx.settings.dashboard_link_hours:g}"
    ctx.send_markdown(
        Users.of(ctx.staff_id),
        "工作进度看板",
        f"#### 工作进度看板\n\n[点击打开看板]({links.url(ctx.settings, token)})\n\n"
        f"链接 {hours} 小时内有效，仅限本人使用，请勿转发。",
        key=f"{ctx.event_key}:dashboard",
    )
    if ctx.is_group:
        ctx.reply("看板登录链接已通过单聊发给您。")


def register(router: Router) -> None:
    router.command(
        "进度",
        "工作进度",
        summary="查看本单位“综合查一次”工作进度、排名和逾期事项",
        usage="进度",
        section=SECTION,
    )(progress)
    router.command(
        "通报",
        summary="立即生成工作进度通报并发送到领导工作群",
        usage="通报",
        roles=(ROLE_LEADER,),
        section=SECTION,
    )(post_now)
    router.command(
        "看板",
        summary="获取工作进度看板的登录链接（单聊发送）",
        usage="看板",
        roles=DASHBOARD_ROLES,
        section=SECTION,
    )(dashboard_link)
