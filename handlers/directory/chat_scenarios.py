"""场景, 主题, 认领: the scenario list and the 监管一件事 themes in the chat.

A unit admin claims a theme for their own unit (BR-30: then at least the required number of
joint inspections by the deadline). A refused claim is answered with the reason and audited, like
every other refusal; a claim moves the theme per domain.md §11.4 and schedules the deadline check.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import CommandContext, TickContext, UserError
from bot.router import Router
from handlers.directory.activity import joint_inspections_done
from handlers.directory.lookups import find_themes
from handlers.directory.replies import send_answer
from handlers.directory.rules import local_today, parse_date
from handlers.directory.service import DirectoryEditor
from handlers.directory.themes import (
    LEVEL_LABELS,
    STATUS_LABELS,
    decide_claim,
    effective_status,
    short_name,
)
from storage.models.directory import METHOD_LABELS, Scenario, Theme, ThemeScenario
from storage.models.platform import ROLE_UNIT_ADMIN, Unit

SECTION = "名录与场景"
DEADLINE_KIND = "theme.deadline"


def register(router: Router) -> None:
    router.command(
        "场景",
        "检查场景",
        summary="查看检查场景清单：牵头单位、协同单位和检查事项",
        usage="场景 [场景名称]",
        section=SECTION,
    )(show_scenarios)
    router.command(
        "主题",
        "监管一件事",
        summary="查看“监管一件事”主题的认领、期限和联合检查完成情况",
        usage="主题",
        section=SECTION,
    )(show_themes)
    router.command(
        "认领",
        summary="为本单位认领“监管一件事”主题",
        usage="认领 <主题> [完成期限]",
        roles=(ROLE_UNIT_ADMIN,),
        section=SECTION,
    )(claim_theme)
    router.on_due(DEADLINE_KIND)(theme_deadline_passed)


# -- 场景 --------------------------------------------------------------------------------------------
def show_scenarios(ctx: CommandContext) -> None:
    scenarios = list(
        ctx.session.execute(select(Scenario).where(Scenario.active.is_(True)).order_by(Scenario.id)).scalars()
    )
    query = ctx.args.strip()
    if query:
        matches = [s for s in scenarios if query == s.name] or [s for s in scenarios if query in s.name]
        if not matches:  # a theme's name (人行道, 餐饮油烟扰民) stands for its scenarios
            wanted = {
                link.scenario_id for theme in find_themes(ctx.session, query) for link in theme.scenarios
            }
            matches = [s for s in scenarios if s.id in wanted]
        if not matches:
            raise UserError(f"没有找到名称含「{query}」的检查场景。发送「场景」查看全部。")
        if len(matches) == 1:
            text = scenario_detail(ctx, matches[0])
            send_answer(ctx, matches[0].name, text, entries=len(matches[0].items))
            return
        scenarios = matches
    if not scenarios:
        ctx.reply("目前还没有检查场景。请系统管理员先导入检查场景清单。")
        return
    lines = [f"#### 检查场景清单（{len(scenarios)} 个）"]
    for number, scenario in enumerate(scenarios, start=1):
        co = "、".join(link.unit.name for link in scenario.co_units) or "无"
        lines.append(f"**{number}. {scenario.name}**")
        lines.append(f"- 牵头：{scenario.lead_unit.name}；协同：{co}")
        items = "；".join(f"{link.power_item.code} {link.power_item.name}" for link in scenario.items)
        lines.append(f"- 检查事项（{len(scenario.items)} 项）：{items}")
    lines.append("")
    lines.append("发送「场景 场景名称」查看检查依据和检查内容。")
    send_answer(ctx, "检查场景清单", "\n".join(lines), entries=len(scenarios))


def scenario_detail(ctx: CommandContext, scenario: Scenario) -> str:
    themes = list(
        ctx.session.execute(
            select(Theme.name)
            .join(ThemeScenario, ThemeScenario.theme_id == Theme.id)
            .where(ThemeScenario.scenario_id == scenario.id, Theme.active.is_(True))
        ).scalars()
    )
    lines = [f"#### {scenario.name}", f"- 牵头单位：{scenario.lead_unit.name}"]
    lines.append(f"- 协同单位：{'、'.join(link.unit.name for link in scenario.co_units) or '无'}")
    if scenario.object_types or scenario.industries:
        scope = "、".join(scenario.object_types) or "各类主体"
        if scenario.industries:
            scope += f"；行业：{'、'.join(scenario.industries)}"
        lines.append(f"- 适用对象：{scope}")
    if themes:
        lines.append(f"- 所属主题：{'、'.join(themes)}")
    if scenario.description:
        lines.append(f"- 说明：{scenario.description}")
    lines.append("")
    lines.append("**检查事项**")
    for number, link in enumerate(scenario.items, start=1):
        item = link.power_item
        method = METHOD_LABELS.get(item.default_method, item.default_method)
        lines.append(f"{number}. {item.code} {item.name}（{item.owner_unit.name}，{method}）")
        lines.append(f"   - 依据：{item.legal_basis}")
        points = link.content or "；".join(item.check_points)
        if points:
            lines.append(f"   - 检查内容：{points}")
    return "\n".join(lines)


# -- 主题 --------------------------------------------------------------------------------------------
def show_themes(ctx: CommandContext) -> None:
    themes = list(
        ctx.session.execute(select(Theme).where(Theme.active.is_(True)).order_by(Theme.id)).scalars()
    )
    if not themes:
        ctx.reply("目前还没有“监管一件事”主题。")
        return
    today = local_today(ctx.now, ctx.settings.timezone)
    lines = [f"#### 监管一件事（{len(themes)} 项）"]
    overdue = 0
    for theme in themes:
        done = joint_inspections_done(ctx.session, theme.id)
        status = effective_status(theme, done, today)
        mark = "⚠️ " if status == "overdue" else ""
        overdue += status == "overdue"
        level = LEVEL_LABELS.get(theme.level, theme.level)
        lines.append(f"**{mark}{theme.name}**（{level}，{STATUS_LABELS.get(status, status)}）")
        if theme.claimed_by_unit is not None and status not in ("open", "released"):
            claimed = (
                local_today(theme.claimed_at, ctx.settings.timezone).isoformat() if theme.claimed_at else ""
            )
            lines.append(
                f"- 认领单位：{theme.claimed_by_unit.name}{f'（{claimed} 认领）' if claimed else ''}"
            )
        else:
            lines.append("- 认领单位：尚未认领")
        lines.append(f"- 完成期限：{_deadline_text(theme.deadline, today, status)}")
        lines.append(f"- 联合检查：已完成 {done} 次 / 需 {theme.min_joint_inspections} 次")
    if overdue:
        lines.append("")
        lines.append(f"⚠️ 有 {overdue} 项已过期限仍未完成联合检查。")
    lines.append("")
    lines.append("单位管理员可发送「认领 主题名称 完成期限」认领，如：认领 人行道 2026-12-31")
    send_answer(
        ctx,
        "监管一件事",
        "\n".join(lines),
        entries=len(themes),
        status=f"逾期 {overdue} 项" if overdue else "",
    )


def _deadline_text(deadline: date | None, today: date, status: str) -> str:
    if deadline is None:
        return "未设定"
    days = (deadline - today).days
    if status == "fulfilled":
        return deadline.isoformat()
    if days < 0:
        return f"{deadline.isoformat()}（已逾期 {-days} 天）"
    if days == 0:
        return f"{deadline.isoformat()}（今天到期）"
    return f"{deadline.isoformat()}（还剩 {days} 天）"


# -- 认领 --------------------------------------------------------------------------------------------
def claim_theme(ctx: CommandContext) -> None:
    words = ctx.args.split()
    if not words:
        raise UserError("请写明要认领的主题，例如：认领 人行道 2026-12-31。发送「主题」查看全部主题。")
    asked = parse_date(words[-1]) if len(words) > 1 else None
    if len(words) > 1 and asked is None and any(ch.isdigit() for ch in words[-1]):
        raise UserError(f"「{words[-1]}」不是日期，请写成 2026-12-31。")
    query = " ".join(words[:-1] if asked else words)
    person = ctx.person
    unit = _own_unit(ctx)
    if person is None or unit is None:
        _refuse(ctx, query, None, "认领须由单位管理员为本单位办理，您没有登记为任何单位的管理员。")
        return
    themes = find_themes(ctx.session, query)
    if not themes:
        _refuse(ctx, query, None, f"没有找到主题「{query}」。发送「主题」查看全部主题。")
        return
    if len(themes) > 1:
        names = "、".join(theme.name for theme in themes)
        _refuse(ctx, query, None, f"「{query}」对应多个主题：{names}。请写得更完整一些。")
        return
    theme = themes[0]
    today = local_today(ctx.now, ctx.settings.timezone)
    claimant = theme.claimed_by_unit.name if theme.claimed_by_unit else None
    decision = decide_claim(
        theme, unit_id=unit.id, unit_name=unit.name, claimant_name=claimant, asked=asked, today=today
    )
    deadline = decision.deadline
    if decision.refusal or deadline is None:
        _refuse(ctx, query, theme, decision.refusal or "无法确定完成期限。")
        return
    editor = DirectoryEditor.for_context(ctx, reason=f"{unit.name}认领")
    editor.update(
        theme,
        {
            "claimed_by_unit_id": unit.id,
            "claimed_by_person_id": person.id,
            "claimed_at": ctx.now,
            "deadline": deadline,
            "status": "claimed",
        },
        action="theme.claim",
    )
    ctx.schedule(
        DEADLINE_KIND,
        f"theme:{theme.id}",
        deadline_moment(deadline, ctx.settings.timezone),
        key=f"theme:{theme.id}:deadline:{unit.id}:{deadline.isoformat()}",
        payload={"theme_id": theme.id, "unit_id": unit.id, "deadline": deadline.isoformat()},
    )
    days = (deadline - today).days
    ctx.reply_markdown(
        "认领成功",
        f"已为**{unit.name}**认领「{theme.name}」。\n\n"
        f"- 完成期限：{deadline.isoformat()}（还剩 {days} 天）\n"
        f"- 要求：期限内至少完成 {theme.min_joint_inspections} 次联合检查（两个以上单位参加）\n\n"
        f"发送「场景 {short_name(theme.name)}」查看该主题的检查场景。",
    )


def _own_unit(ctx: CommandContext) -> Unit | None:
    """The unit the caller administers (their own unit when they administer several)."""
    person = ctx.person
    if person is None:
        return None
    unit_ids = sorted(
        {role.unit_id for role in person.roles if role.role == ROLE_UNIT_ADMIN and role.unit_id}
    )
    if not unit_ids:
        return None
    chosen = person.unit_id if person.unit_id in unit_ids else unit_ids[0]
    return ctx.session.get(Unit, chosen)


def _refuse(ctx: CommandContext, query: str, theme: Theme | None, reason: str) -> None:
    ctx.audit(
        "theme.claim_refused",
        "theme",
        theme.id if theme else query[:80] or "-",
        detail={"query": query, "reason": reason},
    )
    ctx.reply(reason)


def deadline_moment(deadline: date, tz: str) -> datetime:
    """The end of the deadline day in the bureau's time zone: the first moment it is overdue."""
    return datetime.combine(deadline + timedelta(days=1), time(0, 0), tzinfo=ZoneInfo(tz))


def theme_deadline_passed(ctx: TickContext, item: Any) -> None:
    """Due at the end of a claimed theme's deadline: claimed -> overdue if not fulfilled (§11.4)."""
    payload = item.payload or {}
    theme = ctx.session.get(Theme, payload.get("theme_id"))
    if theme is None or theme.claimed_by_unit_id != payload.get("unit_id"):
        return  # released or claimed by someone else since
    if theme.deadline is None or theme.deadline.isoformat() != payload.get("deadline"):
        return  # the deadline changed; a newer due item covers it
    if theme.status not in ("claimed", "in_progress"):
        return
    if joint_inspections_done(ctx.session, theme.id) >= theme.min_joint_inspections:
        return
    DirectoryEditor.for_context(ctx, reason="到期未完成联合检查").update(
        theme, {"status": "overdue"}, action="theme.overdue"
    )
