"""Operations on a rectification, each inside the caller's one transaction with its audit events
(the contract in docs/followup.md: every event names the responsible unit and the task) and the
outbox rows for what must be sent.

Transitions go through ``states.next_state`` only. Reminders and the re-check card are due items
scheduled when the order is issued (``on_order_issued``); the ticker handles them in
``reminders.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import Context, UserError
from handlers.calendar.store import at_hour, calendar_for, local_day
from handlers.followup import people, rules
from handlers.followup.states import ACTIONS, STATE_LABELS, next_state
from storage.base import canonical_json
from storage.models import (
    NEXT_STEPS,
    Document,
    Evidence,
    Finding,
    InspectionObject,
    InspectionRecord,
    Inspector,
    Rectification,
    Reinspection,
    Unit,
)
from storage.models.tasks import Task

DUE_SOON = "followup.due_soon"
DEADLINE = "followup.deadline"
OVERDUE = "followup.overdue"
KINDS = (DUE_SOON, DEADLINE, OVERDUE)

# Called when a rectification closes (publication refreshes the record's result code: E).
on_closed: list[Callable[[Context, Rectification], None]] = []
# next step -> creates the disposition record: (ctx, rect, finding, target, reason) -> record
escalations: dict[str, Callable[[Context, Rectification, Finding, str, str], Any]] = {}


def ref(rect_id: int) -> str:
    return f"rectification:{rect_id}"


def detail(rect: Rectification, **extra: Any) -> dict[str, Any]:
    return {"unit_id": rect.unit_id, "task_id": rect.task_id, **extra}


def move(ctx: Context, rect: Rectification, event: str, **extra: Any) -> None:
    """One transition with its audit event (the action named by the event contract)."""
    before = rect.state
    rect.state = next_state(before, event)
    rect.updated_at = ctx.now
    ctx.audit(
        ACTIONS[event],
        "rectification",
        rect.id,
        before={"state": before},
        after={"state": rect.state},
        detail=detail(rect, **extra),
    )


def lock(ctx: Context, rect_id: int) -> Rectification:
    rect = ctx.session.get(Rectification, rect_id, with_for_update=True, populate_existing=True)
    if rect is None:
        raise UserError("找不到这项整改。")
    return rect


def find(ctx: Context, reference: str) -> Rectification | None:
    """By the order's number (丽综执责改〔2026〕3号), this year's sequence (3), or #id."""
    text = reference.strip().removeprefix("#")
    query = select(Rectification).join(Document, Document.id == Rectification.order_doc_id)
    rect = ctx.session.execute(query.where(Document.number == text)).scalar_one_or_none()
    if rect is not None:
        return rect
    digits = text.removesuffix("号")
    if digits.isdigit():
        year = local_day(ctx.now, ctx.settings.timezone).year
        rect = ctx.session.execute(
            query.where(Document.year == year, Document.seq == int(digits), Document.kind == "rectify_order")
        ).scalar_one_or_none()
        if rect is not None:
            return rect
        if reference.strip().startswith("#"):
            return ctx.session.get(Rectification, int(digits))
    return None


# -- facts for messages and cards ---------------------------------------------------------------
@dataclass
class Facts:
    rect: Rectification
    finding: Finding
    obj: InspectionObject
    order: Document
    task: Task

    @property
    def label(self) -> str:
        return f"「{self.obj.name}」{self.finding.item_name}"


def facts(ctx: Context, rect: Rectification) -> Facts:
    finding = ctx.session.get(Finding, rect.finding_id)
    obj = ctx.session.get(InspectionObject, rect.object_id)
    order = ctx.session.get(Document, rect.order_doc_id)
    task = ctx.session.get(Task, rect.task_id)
    assert finding is not None and obj is not None and order is not None and task is not None
    return Facts(rect, finding, obj, order, task)


def _local(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%Y-%m-%d %H:%M")


# -- hooks from results -------------------------------------------------------------------------
def on_order_issued(ctx: Context, rect: Rectification, finding: Finding, document: Document) -> None:
    """A 责令改正通知书 was issued: name the responsible unit and schedule the reminders."""
    record = ctx.session.get(InspectionRecord, rect.record_id)
    task = ctx.session.get(Task, rect.task_id)
    assert record is not None and task is not None
    rect.unit_id = people.responsible_unit(record, finding.power_item_id, task.lead_unit_id)
    schedule(ctx, rect)


def schedule(ctx: Context, rect: Rectification) -> None:
    tz = ctx.settings.timezone
    today = local_day(ctx.now, tz)
    calendar = calendar_for(ctx.session, today, rect.deadline_day)
    plan = rules.schedule(
        calendar,
        rect.deadline_day,
        today,
        remind=ctx.settings.rectify_remind_workdays,
        sla=ctx.settings.reinspection_sla_workdays,
    )
    hour = ctx.settings.reminder_hour
    key = f"rect:{rect.id}"
    if plan.due_soon is not None:
        ctx.schedule(DUE_SOON, ref(rect.id), at_hour(plan.due_soon, hour, tz), key=f"{key}:due_soon")
    ctx.schedule(DEADLINE, ref(rect.id), at_hour(plan.deadline, hour, tz), key=f"{key}:deadline")
    ctx.schedule(
        OVERDUE,
        ref(rect.id),
        at_hour(plan.overdue, hour, tz),
        key=f"{key}:overdue",
        payload={"sla_day": plan.sla_day.isoformat()},
    )


def on_order_withdrawn(ctx: Context, rect: Rectification) -> None:
    """An edit withdrew the order: nothing more is sent for it, its cards turn read-only."""
    ctx.cancel_due(ref(rect.id), *KINDS)
    recheck = reinspection_of(ctx, rect.id)
    if recheck is not None and recheck.state == "open":
        recheck.state = "withdrawn"
    for card in cards_of(ctx, rect.id):
        ctx.update_card(
            card,
            {"status": STATE_LABELS["cancelled"], "note": "检查记录已修改，本项责令改正已撤回，无需跟进。"}
            | _closed_flags(),
            readonly=True,
        )


def _closed_flags() -> dict[str, str]:
    return {"can_serve": "false", "can_on_spot": "false", "can_recheck": "false"}


def cards_of(ctx: Context, rect_id: int) -> list[str]:
    from storage.models import CardInstance

    return list(
        ctx.session.execute(
            select(CardInstance.out_track_id).where(
                CardInstance.entity_type == "rectification", CardInstance.entity_id == str(rect_id)
            )
        ).scalars()
    )


def reinspection_of(ctx: Context, rect_id: int) -> Reinspection | None:
    return ctx.session.execute(
        select(Reinspection).where(Reinspection.rectification_id == rect_id)
    ).scalar_one_or_none()


# -- who may act --------------------------------------------------------------------------------
def team_person_ids(ctx: Context, rect: Rectification) -> set[int]:
    """The original accepted team, plus the re-check team once it exists."""
    from storage.models import AssignmentMember

    record = ctx.session.get(InspectionRecord, rect.record_id)
    assert record is not None
    ids = set(
        ctx.session.execute(
            select(Inspector.person_id)
            .join(AssignmentMember, AssignmentMember.inspector_id == Inspector.id)
            .where(
                AssignmentMember.assignment_id == record.assignment_id, AssignmentMember.state == "accepted"
            )
        ).scalars()
    )
    recheck = reinspection_of(ctx, rect.id)
    if recheck is not None:
        ids |= {int(m["person_id"]) for m in recheck.team}
    return ids


def require_team(ctx: Context, rect: Rectification) -> None:
    person = ctx.person.id if ctx.person else None
    task = ctx.session.get(Task, rect.task_id)
    if person in team_person_ids(ctx, rect) or people.manages(ctx, rect.unit_id or 0, task):
        return
    ctx.audit(
        "access.denied",
        "rectification",
        rect.id,
        detail=detail(rect, staff_id=ctx.staff_id, reason="not_on_team"),
    )
    raise NotOnTeam("只有作出责令改正的检查组成员（或复查人员）和责任单位管理员可以办理这一步。")


class NotOnTeam(UserError):
    """Raised after the refusal was audited; card callers answer instead of rolling back."""


# -- service, on-the-spot correction ------------------------------------------------------------
SERVICE_METHODS = {
    "on_site": "当场送达",
    "direct": "直接送达",
    "post": "邮寄送达",
    "electronic": "电子送达",
    "notice": "公告送达",
}


def parse_time(ctx: Context, text: str, default: datetime | None = None) -> datetime:
    text = text.strip().replace("T", " ")
    if not text:
        if default is None:
            raise UserError("请填写时间。", fields={"served_at": "请填写时间"})
        return default
    try:
        value = datetime.strptime(text[:16], "%Y-%m-%d %H:%M")
    except ValueError:
        raise UserError(f"时间「{text}」应写成 2026-12-03 09:30 的形式。") from None
    moment = value.replace(tzinfo=ZoneInfo(ctx.settings.timezone))
    if moment > ctx.now + timedelta(minutes=5):
        raise UserError("时间不能晚于现在。")
    return moment


def serve(ctx: Context, rect: Rectification, method: str, when: datetime) -> str:
    """Record how and when the order was served (BR-21); warn when the time left after service is
    below the item's minimum (BR-22)."""
    require_team(ctx, rect)
    if method not in SERVICE_METHODS:
        raise UserError("请选择送达方式。", fields={"method": "请选择送达方式"})
    if rect.served_at is not None:
        raise UserError(
            f"已于 {_local(ctx, rect.served_at)} 登记{SERVICE_METHODS.get(rect.service_method or '', '送达')}，无需重复登记。"
        )
    rect.served_at, rect.service_method, rect.served_by = when, method, ctx.actor
    left = (rect.deadline_day - local_day(when, ctx.settings.timezone)).days
    short = rect.mode == "deadline" and left < rect.min_days
    if short:
        rect.short_notice = True
    move(ctx, rect, "serve", channel=method, served_at=when.isoformat(), days_left=left)
    message = f"已登记{SERVICE_METHODS[method]}（{_local(ctx, when)}）。"
    if short:
        message += f"注意：送达后距整改期限仅 {left} 天，少于该事项的最短整改期限 {rect.min_days} 天。"
    return message


def close_on_spot(ctx: Context, rect: Rectification, note: str) -> str:
    """The party corrected while the team was there (BR-23: closed with a note)."""
    require_team(ctx, rect)
    note = note.strip()
    if not note:
        raise UserError("请写明当场改正的情况。", fields={"note": "请写明当场改正的情况"})
    rect.outcome, rect.closed_at, rect.closed_how = "corrected", ctx.now, "on_spot"
    move(ctx, rect, "on_spot", how="on_spot", note=note[:500])
    _after_close(ctx, rect)
    return "已记录当事人当场改正，本项整改办结。"


def _after_close(ctx: Context, rect: Rectification) -> None:
    ctx.cancel_due(ref(rect.id), *KINDS)
    recheck = reinspection_of(ctx, rect.id)
    if recheck is not None and recheck.state == "open":
        recheck.state = "done" if rect.closed_how != "on_spot" else "withdrawn"
    for hook in on_closed:
        hook(ctx, rect)


# -- the re-check -------------------------------------------------------------------------------
@dataclass
class RecheckInput:
    inspected_at: str
    inspectors: list[str]
    outcome: str
    facts: str
    next_step: str = ""
    target: str = ""
    reason: str = ""


def recheck(ctx: Context, rect: Rectification, values: RecheckInput) -> str:
    """File the re-check: its own record (``reinspection``) with the evidence received for it.
    已整改 closes the rectification (result code E); 未整改 escalates to the chosen next step."""
    require_team(ctx, rect)
    if rect.state not in ("ordered", "served", "due_soon", "awaiting_reinspection", "overdue"):
        raise UserError(f"这项整改当前为「{STATE_LABELS.get(rect.state, rect.state)}」，不能再提交复查结果。")
    when = parse_time(ctx, values.inspected_at, ctx.now)
    day = local_day(when, ctx.settings.timezone)
    row = reinspection_of(ctx, rect.id)
    if row is None:  # re-checked before the deadline: the team is the original one
        row = open_reinspection(ctx, rect, day)
    team = {int(m["inspector_id"]) for m in row.team}
    chosen = [int(v) for v in values.inspectors if str(v).strip().isdigit()]
    certified = {}
    for inspector_id in chosen:
        inspector = ctx.session.get(Inspector, inspector_id)
        certified[inspector_id] = inspector is not None and inspector.certified_on(day)
    errors = rules.check_recheck(
        rules.Recheck(
            outcome=values.outcome,
            inspectors=chosen,
            certified=certified,
            team=team,
            facts=values.facts,
            next_step=values.next_step,
            reason=values.reason,
            target=values.target,
        )
    )
    if (
        values.outcome == "not_corrected"
        and values.next_step in rules.NEXT_STEP_TARGETS
        and values.target
        and not values.target.startswith(f"{values.next_step}:")
    ):
        errors["target"] = f"所选单位或名单与下一步「{NEXT_STEPS[values.next_step]}」不符。"
    if errors:
        first = next(iter(errors.values()))
        raise UserError(f"有 {len(errors)} 处需要修改：{first}", fields=errors)
    evidence = list(
        ctx.session.execute(
            select(Evidence.id)
            .where(Evidence.role == f"reinspection:{row.id}", Evidence.state != "failed")
            .order_by(Evidence.id)
        ).scalars()
    )
    content = {
        "inspected_at": when.isoformat(),
        "inspectors": sorted(set(chosen)),
        "outcome": values.outcome,
        "facts": values.facts.strip(),
        "next_step": values.next_step if values.outcome == "not_corrected" else "",
        "target": values.target if values.outcome == "not_corrected" else "",
        "reason": values.reason.strip() if values.outcome == "not_corrected" else "",
        "evidence": evidence,
    }
    row.inspected_at, row.inspectors, row.outcome = when, content["inspectors"], values.outcome
    row.facts, row.evidence, row.state = content["facts"], evidence, "done"
    row.content_hash = hashlib.sha256(canonical_json(content).encode()).hexdigest()
    row.submitted_by_person_id = ctx.person.id if ctx.person else None
    row.submitted_at = ctx.now
    rect.outcome = values.outcome
    move(
        ctx,
        rect,
        "reinspect",
        outcome=values.outcome,
        reinspection_id=row.id,
        inspectors=content["inspectors"],
        evidence=len(evidence),
        content_hash=row.content_hash,
        late=rect.state == "overdue",
    )
    if values.outcome == "corrected":
        rect.closed_at, rect.closed_how = ctx.now, "corrected"
        move(ctx, rect, "corrected", how="corrected", reinspection_id=row.id)
        _after_close(ctx, rect)
        note = "" if evidence else "（本次复查没有照片等证据材料，建议补发到单聊。）"
        return f"已提交复查结果：已整改，本项整改办结，结果将按「发现问题经责令已改正」公示。{note}"
    move(ctx, rect, "not_corrected", reinspection_id=row.id)
    return escalate(ctx, rect, values.next_step, values.target, values.reason.strip())


def escalate(ctx: Context, rect: Rectification, next_step: str, target: str, reason: str) -> str:
    """BR-25: a party that did not correct goes on to a case, a referral, a transfer or a credit
    proposal, with a reason. The disposition is its own record; when it closes, so does this."""
    if next_step not in NEXT_STEPS or not reason:
        raise UserError("未整改的，须选择下一步措施并写明理由。")
    rect.next_step, rect.next_step_reason = next_step, reason[:2000]
    finding = ctx.session.get(Finding, rect.finding_id)
    assert finding is not None
    created = None
    if next_step != "case":
        created = escalations[next_step](ctx, rect, finding, target.partition(":")[2], reason)
    move(
        ctx,
        rect,
        "escalate",
        next_step=next_step,
        reason=reason[:500],
        disposition_id=getattr(created, "id", None),
    )
    finding.disposition = {"case": "file_case", "referral": "notify_dept", "transfer": "transfer"}.get(
        next_step, "credit_proposal"
    )
    if next_step == "case":
        close_escalated(ctx, rect, "转入立案查处程序")
        return "已提交复查结果：未整改，已转入立案查处程序，本项整改办结。"
    return f"已提交复查结果：未整改，已转入「{NEXT_STEPS[next_step]}」，办结后本项整改随之办结。"


def close_escalated(ctx: Context, rect: Rectification, how_detail: str) -> None:
    """The next step is done: the rectification closes (how = escalated)."""
    if rect.state != "escalated":
        return
    rect.closed_at, rect.closed_how = ctx.now, "escalated"
    move(ctx, rect, "close", how="escalated", note=how_detail)
    _after_close(ctx, rect)


def open_reinspection(ctx: Context, rect: Rectification, day: Any) -> Reinspection:
    """The re-check record with its team (the original team, replacements drawn if needed)."""
    team, unfilled = people.recheck_team(ctx, rect, day)
    from storage.identity import staff_ids_of

    staff = staff_ids_of(ctx.session, [m.person_id for m in team], corp_id=ctx.settings.corp_id)
    row = Reinspection(
        rectification_id=rect.id,
        record_id=rect.record_id,
        task_id=rect.task_id,
        object_id=rect.object_id,
        state="open",
        team=[m.as_json(staff.get(m.person_id)) for m in team],
        dispatched_at=ctx.now,
        inspectors=[],
        evidence=[],
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit(
        "reinspection.open",
        "reinspection",
        row.id,
        after={"team": [m.inspector_id for m in team], "replaced": [m.replaces for m in team if m.replaces]},
        detail=detail(rect, rectification_id=rect.id, unfilled=unfilled),
    )
    if unfilled:
        text = (
            f"【复查人员不足】{rect_label(ctx, rect)}的复查组中{'、'.join(unfilled)}已不在岗，"
            "本单位暂无符合条件的人员可以补抽，请另行安排复查人员（不少于2名）。"
        )
        staff_to = people.heads_staff(ctx, rect.unit_id or 0)
        if staff_to:
            from bot.context import Users

            ctx.send_text(Users(tuple(staff_to)), text, key=f"rect:{rect.id}:unfilled")
    return row


def rect_label(ctx: Context, rect: Rectification) -> str:
    f = facts(ctx, rect)
    return f"{f.label}（{f.order.number}）"


def unit_name(ctx: Context, unit_id: int | None) -> str:
    unit = ctx.session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit is not None else "—"
