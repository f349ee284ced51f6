"""查对象 and 我的信息: reading the two libraries from the chat.

Contact phones are masked in every answer: chat messages are stored by the platform and
forwarded, so the bot never puts a full phone number into one.
"""

from __future__ import annotations

from bot.context import CommandContext, UserError
from bot.dispatch import ROLE_LABELS
from bot.logmask import mask_mobile
from bot.router import Router
from handlers.directory.activity import recent_inspections
from handlers.directory.lookups import find_objects, inspector_of
from handlers.directory.regions import region_label
from handlers.directory.replies import send_answer
from handlers.directory.rules import (
    CERT_STATUS_LABELS,
    active_flags,
    inspector_eligibility,
    local_today,
    risk_label,
)
from storage.models.directory import InspectionObject

SECTION = "名录与场景"
LIST_LIMIT = 10


def register(router: Router) -> None:
    router.command(
        "查对象",
        summary="查询检查对象：联系人、风险等级、标记和最近检查",
        usage="查对象 <名称或统一社会信用代码>",
        section=SECTION,
    )(find_object)
    router.command(
        "我的信息",
        summary="查看本人的执法检查人员档案和执法证有效期",
        usage="我的信息",
        where="private",
        section=SECTION,
    )(my_info)


def find_object(ctx: CommandContext) -> None:
    query = ctx.args.strip()
    if not query:
        raise UserError("请写明对象名称或统一社会信用代码，例如：查对象 丽水市莲都区某某餐饮店")
    if len(query) < 2:
        raise UserError("请至少输入两个字再查。")
    found, total = find_objects(ctx.session, query, limit=LIST_LIMIT)
    if not found:
        ctx.reply(f"没有找到与「{query}」匹配的检查对象。可输入名称中的几个字或完整的统一社会信用代码。")
        return
    if len(found) == 1:
        obj = found[0]
        send_answer(ctx, obj.name, object_detail(ctx, obj), entries=1)
        return
    lines = [f"#### 找到 {total} 个检查对象" + (f"（列出前 {len(found)} 个）" if total > len(found) else "")]
    for number, obj in enumerate(found, start=1):
        region = region_label(obj.region_code)
        inactive = "（已停用）" if not obj.active else ""
        lines.append(f"{number}. {obj.name}{inactive}：{_code(obj)}，{region}，{risk_label(obj.risk_class)}")
    lines.append("")
    lines.append("发送「查对象 统一社会信用代码」查看详情。")
    send_answer(ctx, "检查对象查询", "\n".join(lines), entries=len(found))


def object_detail(ctx: CommandContext, obj: InspectionObject) -> str:
    today = local_today(ctx.now, ctx.settings.timezone)
    contact = obj.contact_name or ""
    if obj.contact_phone:
        contact = (
            f"{contact}（{mask_mobile(obj.contact_phone)}）" if contact else mask_mobile(obj.contact_phone)
        )
    flags = "、".join(flag.text() for flag in active_flags(obj, today)) or "无"
    lines = [f"#### {obj.name}" + ("（已停用）" if not obj.active else "")]
    lines.append(
        f"- {'注册号（旧版）' if obj.legacy_reg_no and not obj.uscc else '统一社会信用代码'}：{_code(obj)}"
    )
    lines.append(f"- 主体类型：{obj.entity_type}；登记状态：{obj.registration_status}")
    if obj.legal_rep:
        lines.append(f"- 法定代表人：{obj.legal_rep}")
    if obj.address:
        lines.append(f"- 住所：{obj.address}")
    lines.append(f"- 联系人：{contact or '未登记'}")
    if obj.industry:
        lines.append(f"- 行业：{obj.industry}")
    unit = obj.jurisdiction_unit.name if obj.jurisdiction_unit else "未指定"
    lines.append(f"- 所属区域：{region_label(obj.region_code) or '未登记'}；管辖单位：{unit}")
    lines.append(f"- 风险等级：{risk_label(obj.risk_class)}")
    lines.append(f"- 标记：{flags}")
    inspections = recent_inspections(ctx.session, obj.id)
    if inspections:
        lines.append("- 最近检查：")
        lines.extend(f"  - {i.day.isoformat()} {i.task_title}：{i.result}" for i in inspections)
    else:
        lines.append("- 最近检查：暂无检查记录")
    return "\n".join(lines)


def _code(obj: InspectionObject) -> str:
    return obj.uscc or obj.legacy_reg_no or "无"


def my_info(ctx: CommandContext) -> None:
    person = ctx.person
    if person is None:  # the router lets only bound people through; keep the type checker honest
        raise UserError("您还没有登记为本系统的用户。")
    today = local_today(ctx.now, ctx.settings.timezone)
    roles = "、".join(ROLE_LABELS.get(role, role) for role in sorted(person.role_names())) or "无"
    lines = ["#### 我的信息", f"- 姓名：{person.name}"]
    lines.append(f"- 单位：{person.unit.name if person.unit else '未登记'}")
    lines.append(f"- 角色：{roles}")
    if person.mobile:
        lines.append(f"- 手机号：{mask_mobile(person.mobile)}")
    inspector = inspector_of(ctx.session, person)
    if inspector is None:
        lines.append("- 执法检查人员档案：无（如需参加检查，请联系本单位管理员登记）")
        ctx.reply_markdown("我的信息", "\n".join(lines))
        return
    if inspector.auxiliary:
        lines.append("- 人员类别：辅助人员（无执法证，不能参与执法检查）")
    if inspector.cert_no:
        lines.append(f"- 执法证号：{inspector.cert_no}")
        lines.append(f"- 证件状态：{CERT_STATUS_LABELS.get(inspector.cert_status, inspector.cert_status)}")
        if inspector.cert_valid_from and inspector.cert_valid_to:
            left = (inspector.cert_valid_to - today).days
            if left < 0:
                remain = f"已过期 {-left} 天"
            elif left <= 30:
                remain = f"还剩 {left} 天，请尽快办理换证"
            else:
                remain = f"还剩 {left} 天"
            lines.append(
                f"- 有效期：{inspector.cert_valid_from.isoformat()} 至 {inspector.cert_valid_to.isoformat()}（{remain}）"
            )
    elif not inspector.auxiliary:
        lines.append("- 执法证号：未登记")
    if inspector.fields:
        lines.append(f"- 执法领域：{'、'.join(inspector.fields)}")
    eligibility = inspector_eligibility(inspector, today)
    lines.append(f"- 可参与抽检：{'是' if eligibility.ok else '否（' + eligibility.reason + '）'}")
    ctx.reply_markdown("我的信息", "\n".join(lines))
