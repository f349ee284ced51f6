"""What the rectification cards and the chat views show, and keeping every copy current."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.context import Context
from cards.followup import RectificationCardView, rectification_card
from handlers.calendar.store import calendar_for, local_day
from handlers.calendar.workdays import add_workdays
from handlers.followup import service
from handlers.followup.states import RUNNING, STATE_LABELS
from storage.identity import staff_ids_of
from storage.models import (
    CREDIT_LISTS,
    NEXT_STEPS,
    AssignmentMember,
    CardInstance,
    DueItem,
    Evidence,
    InspectionRecord,
    Inspector,
    Rectification,
    Unit,
)

ENTITY = "rectification"
TARGET_KINDS = {"referral": ("external", "government", "dept"), "transfer": ("police",)}


def card_id(rect_id: int, inspector_id: int, recheck: bool = False) -> str:
    return f"{'reinspect' if recheck else 'rect'}-{rect_id}-{inspector_id}"


def _now_text(ctx: Context) -> str:
    return ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%Y-%m-%d %H:%M")


def targets(ctx: Context) -> list[tuple[str, str]]:
    """Where a next step can go: departments (抄告), police (移送), lists (信用)."""
    rows = ctx.session.execute(
        select(Unit.id, Unit.name, Unit.kind).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.id)
    ).all()
    options: list[tuple[str, str]] = []
    for step, kinds in TARGET_KINDS.items():
        label = NEXT_STEPS[step]
        options += [(f"{step}:{i}", f"{label} → {name}") for i, name, kind in rows if kind in kinds]
    options += [(f"credit:{key}", f"{NEXT_STEPS['credit']} → {text}") for key, text in CREDIT_LISTS.items()]
    return options


def params(ctx: Context, rect: Rectification, *, note: str = "") -> dict[str, str]:
    f = service.facts(ctx, rect)
    recheck = service.reinspection_of(ctx, rect.id)
    tz = ctx.settings.timezone
    calendar = calendar_for(ctx.session, rect.deadline_day, rect.deadline_day)
    sla_day = add_workdays(calendar, rect.deadline_day, ctx.settings.reinspection_sla_workdays)
    served = (
        f"{service.SERVICE_METHODS.get(rect.service_method or '', '')} {service._local(ctx, rect.served_at)}"
        if rect.served_at
        else "尚未登记"
    )
    deadline = "立即改正" if rect.mode == "immediate" else rect.deadline_day.isoformat()
    fields = [
        ("任务编号", f.task.number),
        ("检查对象", f.obj.name),
        ("检查事项", f.finding.item_name),
        ("通知书", f.order.number),
        ("整改期限", deadline),
        ("送达", served),
        (
            "复查期限",
            f"{sla_day.isoformat()} 前（期限届满后{ctx.settings.reinspection_sla_workdays}个工作日内）",
        ),
        ("责任单位", service.unit_name(ctx, rect.unit_id)),
    ]
    team_options: list[tuple[str, str]] = []
    if recheck is not None:
        team_options = [(str(m["inspector_id"]), f"{m['name']}（{m['cert']}）") for m in recheck.team]
        evidence = ctx.session.execute(
            select(func.count()).select_from(Evidence).where(Evidence.role == f"reinspection:{recheck.id}")
        ).scalar_one()
        fields.append(("复查证据", f"{evidence} 件（在单聊中发送照片即归入本次复查）"))
    else:
        team_options = _original_team(ctx, rect)
    running = rect.state in RUNNING
    default_note = {
        "ordered": "请将责令改正通知书送达当事人后登记送达；当事人当场改正的，可直接记录。",
        "served": "整改期限届满后，我会把复查卡片发给检查组。当事人提前改正的，也可以现在复查。",
        "due_soon": "整改期限快到了，期限届满后请及时复查。",
        "awaiting_reinspection": f"整改期限已到，请在 {sla_day.isoformat()} 前由不少于2名执法人员复查，并提交复查结果。",
        "overdue": "复查已超过时限，请尽快复查并提交结果。",
    }.get(rect.state, "")
    view = RectificationCardView(
        rectification_id=rect.id,
        title=f"责令改正｜{f.obj.name}",
        status=STATE_LABELS.get(rect.state, rect.state),
        fields=fields,
        facts=f"**违法事实**：{f.finding.facts}\n\n**整改要求**：{rect.requirements}",
        note="\n\n".join(p for p in (note, default_note) if p),
        can_serve=running and rect.served_at is None,
        can_on_spot=running and rect.state in ("ordered", "served"),
        can_recheck=running,
        now_default=_now_text(ctx),
        team=team_options,
        team_default=[value for value, _ in team_options],
        targets=targets(ctx),
    )
    del tz
    return rectification_card(view)


def _original_team(ctx: Context, rect: Rectification) -> list[tuple[str, str]]:
    record = ctx.session.get(InspectionRecord, rect.record_id)
    assert record is not None
    rows = ctx.session.execute(
        select(Inspector)
        .join(AssignmentMember, AssignmentMember.inspector_id == Inspector.id)
        .where(AssignmentMember.assignment_id == record.assignment_id, AssignmentMember.state == "accepted")
        .order_by(AssignmentMember.position)
    ).scalars()
    return [(str(i.id), f"{i.person.name}（{i.cert_no or ''}）") for i in rows]


def send_order_cards(ctx: Context, rect: Rectification) -> None:
    """Each accepted member of the team that issued the order gets the card (once)."""
    record = ctx.session.get(InspectionRecord, rect.record_id)
    assert record is not None
    rows = ctx.session.execute(
        select(Inspector)
        .join(AssignmentMember, AssignmentMember.inspector_id == Inspector.id)
        .where(AssignmentMember.assignment_id == record.assignment_id, AssignmentMember.state == "accepted")
    ).scalars()
    members = list(rows)
    staff = staff_ids_of(ctx.session, [i.person_id for i in members], corp_id=ctx.settings.corp_id)
    card = params(ctx, rect)
    for inspector in members:
        to = staff.get(inspector.person_id)
        if to is None or ctx.session.get(CardInstance, card_id(rect.id, inspector.id)) is not None:
            continue
        ctx.send_card(
            "rectification_card",
            card_id(rect.id, inspector.id),
            to,
            card,
            audience=(to,),
            entity=(ENTITY, rect.id),
        )


def send_recheck_cards(ctx: Context, rect: Rectification, note: str) -> int:
    """The 复查 card to every member of the re-check team (replacements included)."""
    recheck = service.reinspection_of(ctx, rect.id)
    assert recheck is not None
    card = params(ctx, rect, note=note)
    sent = 0
    for mate in recheck.team:
        to = mate.get("staff_id")
        if not to:
            continue
        ctx.send_card(
            "rectification_card",
            card_id(rect.id, int(mate["inspector_id"]), recheck=True),
            to,
            card,
            audience=(to,),
            entity=(ENTITY, rect.id),
        )
        sent += 1
    return sent


def refresh(
    ctx: Context, rect: Rectification, *, clicked: str | None = None, note: str = ""
) -> dict[str, str]:
    """Every copy shows the current state; returns the clicked copy's params."""
    card = params(ctx, rect, note=note)
    done = rect.state not in RUNNING
    answer: dict[str, str] = {}
    for out in service.cards_of(ctx, rect.id):
        if out == clicked:
            answer = card
            continue
        ctx.update_card(out, card, readonly=True if done else None)
    return answer


def summary(ctx: Context, rect: Rectification) -> str:
    """``整改 <编号>``: one rectification in full."""
    f = service.facts(ctx, rect)
    tz = ctx.settings.timezone
    lines = [
        f"**责令改正｜{f.obj.name}**",
        "",
        f"- 通知书：{f.order.number}（{'立即改正' if rect.mode == 'immediate' else '限期改正'}）",
        f"- 任务：{f.task.number}",
        f"- 检查事项：{f.finding.item_name}",
        f"- 违法事实：{f.finding.facts}",
        f"- 整改期限：{rect.deadline_day.isoformat()}",
        f"- 当前状态：**{STATE_LABELS.get(rect.state, rect.state)}**",
        f"- 责任单位：{service.unit_name(ctx, rect.unit_id)}",
        f"- 送达：{service.SERVICE_METHODS.get(rect.service_method or '', '尚未登记')}"
        + (f" {service._local(ctx, rect.served_at)}" if rect.served_at else ""),
    ]
    recheck = service.reinspection_of(ctx, rect.id)
    if recheck is not None:
        names = "、".join(m["name"] for m in recheck.team)
        lines.append(f"- 复查组：{names}")
        if recheck.inspected_at:
            outcome = {"corrected": "已整改", "not_corrected": "未整改"}.get(recheck.outcome or "", "")
            lines.append(
                f"- 复查：{service._local(ctx, recheck.inspected_at)}，{outcome}；{recheck.facts or ''}"
            )
    if rect.next_step:
        lines.append(
            f"- 下一步：{NEXT_STEPS.get(rect.next_step, rect.next_step)}（{rect.next_step_reason or ''}）"
        )
    if rect.closed_at:
        how = {"corrected": "复查确认已整改", "on_spot": "当场改正", "escalated": "转入后续处置后办结"}
        lines.append(f"- 办结：{service._local(ctx, rect.closed_at)}，{how.get(rect.closed_how or '', '')}")
    sent = ctx.session.execute(
        select(DueItem.kind, DueItem.done_at)
        .where(DueItem.ref == service.ref(rect.id), DueItem.state == "done")
        .order_by(DueItem.done_at)
    ).all()
    labels = {service.DUE_SOON: "到期提醒", service.DEADLINE: "复查通知", service.OVERDUE: "复查逾期提醒"}
    if sent:
        lines.append(
            "- 已发提醒："
            + "；".join(f"{labels.get(k, k)} {local_day(t, tz).isoformat()}" for k, t in sent if t)
        )
    return "\n".join(lines)


def listing(ctx: Context, unit_ids: set[int]) -> str:
    """``逾期``: the units' rectifications whose re-check is late, due now, or due soon."""
    rows = list(
        ctx.session.execute(
            select(Rectification)
            .where(
                Rectification.unit_id.in_(sorted(unit_ids)),
                Rectification.state.in_(("overdue", "awaiting_reinspection", "due_soon")),
            )
            .order_by(Rectification.deadline_day, Rectification.id)
        ).scalars()
    )
    if not rows:
        return "本单位目前没有逾期、待复查或即将到期的整改事项。"
    groups: dict[str, list[Any]] = {"overdue": [], "awaiting_reinspection": [], "due_soon": []}
    for rect in rows:
        groups[rect.state].append(rect)
    titles = {
        "overdue": "复查逾期（我方未按时复查）",
        "awaiting_reinspection": "期限已到，待复查",
        "due_soon": "即将到期",
    }
    lines = [f"**整改跟踪**：共 {len(rows)} 项", ""]
    for state, items in groups.items():
        if not items:
            continue
        lines.append(f"**{titles[state]}**（{len(items)}）")
        for rect in items[:30]:
            f = service.facts(ctx, rect)
            lines.append(
                f"- {f.order.number}｜{f.obj.name}｜{f.finding.item_name}｜期限 {rect.deadline_day.isoformat()}"
            )
        if len(items) > 30:
            lines.append(f"- ……另有 {len(items) - 30} 项")
        lines.append("")
    lines.append("发送「整改 通知书编号」查看一项的详情。")
    return "\n".join(lines)
