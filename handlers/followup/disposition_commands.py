"""Chat commands for the dispositions (抄告, 上报, 移送, 信用). One word each, with a verb:

抄告 <通知书编号> <主管部门> <事项>          抄告 答复 <号> <答复内容>
上报 <通知书编号> [紧急] <事项>              上报 反馈 <号> <反馈内容>
移送 <通知书编号> <公安机关> <涉嫌罪名> <理由>
移送 审批 <号> 同意 [公安机关] | 不同意 <理由>
移送 附件 <号> <移送书|调查报告|物品清单|检验报告|其他>   (then send the file 1:1)
移送 已移送|立案|不立案|复议|监督|移交|办结 <号>
信用 <通知书编号> 重点监管|失信 <理由>        信用 决定 <号> 列入|不列入 [起至] [说明]
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.context import CommandContext, UserError
from bot.router import Router
from handlers.followup import dispositions as d
from handlers.followup import service
from storage.models import (
    ROLE_INSPECTOR,
    ROLE_LEADER,
    ROLE_UNIT_ADMIN,
    TRANSFER_ATTACHMENTS,
    Finding,
    MediaFocus,
    Unit,
)

ROLES = (ROLE_INSPECTOR, ROLE_UNIT_ADMIN, ROLE_LEADER)
ATTACHMENT_WORDS = {
    "移送书": "letter",
    "调查报告": "report",
    "物品清单": "items",
    "涉案物品清单": "items",
    "检验报告": "tests",
    "鉴定结论": "tests",
    "其他": "other",
}
TRANSFER_STEPS = {"复议": "reconsider", "监督": "supervise", "移交": "hand_over", "办结": "close"}
FOCUS_MINUTES = 30


def _words(ctx: CommandContext, least: int, usage: str) -> list[str]:
    words = ctx.args.split()
    if len(words) < least:
        raise UserError(f"格式：{usage}")
    return words


def _rect(ctx: CommandContext, reference: str) -> tuple[object, Finding]:
    rect = service.find(ctx, reference)
    if rect is None:
        raise UserError(f"没有找到编号为「{reference}」的责令改正通知书。")
    finding = ctx.session.get(Finding, rect.finding_id)
    assert finding is not None
    task = ctx.session.get(service.Task, rect.task_id)
    if not service.people.manages(ctx, rect.unit_id or 0, task) and (
        ctx.person is None or ctx.person.id not in service.team_person_ids(ctx, rect)
    ):
        raise UserError("只有本项检查的检查组成员、责任单位或牵头单位的管理员可以办理。")
    return rect, finding


def _unit(ctx: CommandContext, name: str, kinds: tuple[str, ...]) -> str:
    rows = list(
        ctx.session.execute(
            select(Unit).where(Unit.active.is_(True), Unit.kind.in_(kinds), Unit.name.contains(name))
        ).scalars()
    )
    exact = [u for u in rows if u.name == name]
    if len(exact) == 1 or len(rows) == 1:
        return str((exact or rows)[0].id)
    if not rows:
        raise UserError(f"名录中没有名为「{name}」的单位。")
    raise UserError(f"「{name}」对应多个单位：{'、'.join(u.name for u in rows[:5])}，请写全称。")


def _number(text: str) -> int:
    digits = text.strip().removeprefix("第").removesuffix("号")
    if not digits.isdigit():
        raise UserError(f"「{text}」不是有效的编号。")
    return int(digits)


def referral_command(ctx: CommandContext) -> None:
    words = ctx.args.split()
    if words and words[0] == "答复":
        words = _words(ctx, 3, "抄告 答复 <号> <答复内容>")
        row = d.lock(ctx, "referral", _number(words[1]))
        ctx.reply(d.answer_referral(ctx, row, " ".join(words[2:])))
        return
    words = _words(ctx, 3, "抄告 <通知书编号> <主管部门> <事项>")
    rect, finding = _rect(ctx, words[0])
    unit = _unit(ctx, words[1], ("external", "government", "dept", "bureau"))
    matter = " ".join(words[2:])
    row = d.create_referral(ctx, rect, finding, unit, matter, matter)  # type: ignore[arg-type]
    ctx.reply(f"已抄告（第{row.id}号），答复期限 {row.response_due.isoformat()}。")


def report_command(ctx: CommandContext) -> None:
    words = ctx.args.split()
    if words and words[0] == "反馈":
        words = _words(ctx, 3, "上报 反馈 <号> <反馈内容>")
        row = d.lock(ctx, "report", _number(words[1]))
        ctx.reply(d.answer_report(ctx, row, " ".join(words[2:])))
        return
    words = _words(ctx, 2, "上报 <通知书编号> [紧急] <事项>")
    rect, finding = _rect(ctx, words[0])
    urgent = words[1] == "紧急"
    matter = " ".join(words[2:] if urgent else words[1:])
    row = d.create_report(ctx, rect, finding, matter, urgent=urgent)  # type: ignore[arg-type]
    tail = "，已立即通知单位负责人" if urgent else ""
    ctx.reply(f"已上报（第{row.id}号）{tail}，反馈期限 {row.response_due.isoformat()}。")


def transfer_command(ctx: CommandContext) -> None:
    words = _words(
        ctx,
        2,
        "移送 <通知书编号> <公安机关> <涉嫌罪名> <理由>，或 移送 审批|附件|已移送|立案|不立案|复议|监督|移交|办结 <号>",
    )
    verb = words[0]
    if verb == "审批":
        words = _words(ctx, 3, "移送 审批 <号> 同意 [公安机关] | 不同意 <理由>")
        row = d.lock(ctx, "transfer", _number(words[1]))
        approve = words[2] == "同意"
        rest = " ".join(words[3:])
        police = _unit(ctx, rest, ("police",)) if approve and rest else ""
        ctx.reply(d.decide_transfer(ctx, row, approve, "" if approve else rest, police))
        return
    if verb == "附件":
        words = _words(ctx, 3, "移送 附件 <号> <移送书|调查报告|物品清单|检验报告|其他>")
        row = d.lock(ctx, "transfer", _number(words[1]))
        kind = ATTACHMENT_WORDS.get(words[2])
        if kind is None or ctx.person is None:
            raise UserError("附件类型应为：移送书、调查报告、物品清单、检验报告或其他。")
        focus = ctx.session.get(MediaFocus, ctx.person.id)
        until = ctx.now + timedelta(minutes=FOCUS_MINUTES)
        if focus is None:
            ctx.session.add(
                MediaFocus(person_id=ctx.person.id, target=f"transfer:{row.id}:{kind}", until=until)
            )
        else:
            focus.target, focus.until = f"transfer:{row.id}:{kind}", until
        ctx.reply(
            f"请在{FOCUS_MINUTES}分钟内把「{TRANSFER_ATTACHMENTS[kind]}」的文件发到与我的单聊，会作为移送第{row.id}号的附件存证。"
        )
        return
    if verb in ("已移送", "立案", "不立案", *TRANSFER_STEPS):
        row = d.lock(ctx, "transfer", _number(_words(ctx, 2, f"移送 {verb} <号>")[1]))
        if verb == "已移送":
            ctx.reply(d.mark_transferred(ctx, row))
        elif verb in ("立案", "不立案"):
            ctx.reply(d.police_decision(ctx, row, verb == "立案"))
        else:
            ctx.reply(d.transfer_step(ctx, row, TRANSFER_STEPS[verb]))
        return
    words = _words(ctx, 4, "移送 <通知书编号> <公安机关> <涉嫌罪名> <理由>")
    rect, finding = _rect(ctx, words[0])
    police = _unit(ctx, words[1], ("police",))
    row = d.create_transfer(ctx, rect, finding, police, " ".join(words[3:]), offence=words[2])  # type: ignore[arg-type]
    ctx.reply(f"已报请移送（第{row.id}号），负责人须在{ctx.settings.transfer_decision_days}日内审批。")


def credit_command(ctx: CommandContext) -> None:
    words = ctx.args.split()
    if words and words[0] == "决定":
        words = _words(ctx, 3, "信用 决定 <号> 列入|不列入 [2026-12-01至2029-11-30] [说明]")
        row = d.lock(ctx, "credit", _number(words[1]))
        listed = words[2] == "列入"
        start = end = None
        rest = words[3:]
        if rest and "至" in rest[0]:
            first, _, last = rest[0].partition("至")
            try:
                start, end = date.fromisoformat(first), date.fromisoformat(last)
            except ValueError:
                raise UserError("期限应写成 2026-12-01至2029-11-30。") from None
            rest = rest[1:]
        ctx.reply(d.decide_credit(ctx, row, listed, " ".join(rest), start, end))
        return
    words = _words(ctx, 3, "信用 <通知书编号> 重点监管|失信 <理由>")
    rect, finding = _rect(ctx, words[0])
    lists = {"重点监管": "key_supervision", "失信": "dishonest", "严重失信": "dishonest"}
    if words[1] not in lists:
        raise UserError("建议列入的名单应为「重点监管」或「失信」。")
    row = d.create_credit(ctx, rect, finding, lists[words[1]], " ".join(words[2:]))  # type: ignore[arg-type]
    ctx.reply(f"已记录信用惩戒建议（第{row.id}号），这是向信用主管部门提出的建议，决定后请登记。")


def register(router: Router) -> None:
    section = "整改与处置"
    router.command(
        "抄告",
        summary="把不属本部门管辖的问题抄告主管部门；记录答复",
        usage="抄告 <通知书编号> <主管部门> <事项>",
        roles=ROLES,
        section=section,
    )(referral_command)
    router.command(
        "上报",
        summary="向本级政府上报严重违法或重大隐患；紧急的立即通知负责人",
        usage="上报 <通知书编号> [紧急] <事项>",
        roles=ROLES,
        section=section,
    )(report_command)
    router.command(
        "移送",
        summary="涉嫌犯罪案件移送：报请、审批、附件、移送、公安机关决定",
        usage="移送 <通知书编号> <公安机关> <涉嫌罪名> <理由>",
        roles=ROLES,
        section=section,
    )(transfer_command)
    router.command("信用", summary="信用惩戒（重点监管）建议及其决定", usage="信用 <通知书编号> 重点监管|失信 <理由>", roles=ROLES, section=section)(credit_command)  # fmt: skip
    router.on_due(d.DUE)(d.on_due)
