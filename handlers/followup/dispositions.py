"""The dispositions of a finding, each its own record with deadlines the ticker chases:
抄告 (``Referral``, BR-26), 上报 (``Report``, BR-29), 移送 (``Transfer``, BR-28) and credit
proposals (``CreditProposal``, BR-27).

Audit events (the contract in docs/followup.md): ``<type>.create``, ``<type>.decide``,
``<type>.close`` with ``unit_id`` and ``task_id`` in the detail (type = referral, report,
transfer, credit), plus the transfer's own steps. A disposition started by a failed re-check
closes its rectification (how = escalated) when it closes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.context import Context, TickContext, UserError, Users
from handlers.calendar.store import at_hour, calendar_for, local_day
from handlers.calendar.workdays import add_workdays
from handlers.directory.service import DirectoryEditor
from handlers.followup import people, service, transfer_states
from storage.models import (
    CREDIT_LISTS,
    REQUIRED_ATTACHMENTS,
    TRANSFER_ATTACHMENTS,
    CreditProposal,
    Evidence,
    Finding,
    InspectionObject,
    Rectification,
    Referral,
    Report,
    Transfer,
    Unit,
)

DUE = "disposition.due"
MODELS: dict[str, Any] = {
    "referral": Referral,
    "report": Report,
    "transfer": Transfer,
    "credit": CreditProposal,
}
TITLES = {"referral": "抄告", "report": "上报", "transfer": "移送", "credit": "信用惩戒建议"}


def _audit(ctx: Context, kind: str, row: Any, action: str, **extra: Any) -> None:
    ctx.audit(
        f"{kind}.{action}",
        kind,
        row.id,
        detail={"unit_id": row.unit_id, "task_id": row.task_id, "finding_id": row.finding_id, **extra},
    )


def _today(ctx: Context) -> date:
    return local_day(ctx.now, ctx.settings.timezone)


def _workdays_later(ctx: Context, days: int) -> date:
    today = _today(ctx)
    return add_workdays(calendar_for(ctx.session, today, today + timedelta(days=days * 2 + 30)), today, days)


def _due(ctx: Context, kind: str, row: Any, step: str, when: datetime) -> None:
    ctx.schedule(DUE, f"{kind}:{row.id}", when, key=f"{kind}:{row.id}:{step}", payload={"step": step})


def _remind_day(ctx: Context, day: date) -> datetime:
    """Reminder hour of the first working day after ``day`` (the answer was due by ``day``)."""
    calendar = calendar_for(ctx.session, day, day + timedelta(days=40))
    return at_hour(add_workdays(calendar, day, 1), ctx.settings.reminder_hour, ctx.settings.timezone)


def _base(ctx: Context, finding: Finding, rect: Rectification | None, reason: str) -> dict[str, Any]:
    unit_id = rect.unit_id if rect is not None and rect.unit_id else None
    if unit_id is None:
        from storage.models.tasks import Task

        task = ctx.session.get(Task, finding.task_id)
        assert task is not None
        unit_id = task.lead_unit_id
    return {
        "finding_id": finding.id,
        "rectification_id": rect.id if rect is not None else None,
        "task_id": finding.task_id,
        "object_id": finding.object_id,
        "unit_id": unit_id,
        "reason": reason[:2000],
        "created_by_person_id": ctx.person.id if ctx.person else None,
        "created_at": ctx.now,
    }


def _unit(ctx: Context, unit_id: str | int, kinds: tuple[str, ...], what: str) -> Unit:
    unit = ctx.session.get(Unit, int(unit_id)) if str(unit_id).isdigit() else None
    if unit is None or not unit.active or unit.kind not in kinds:
        raise UserError(f"请选择名录中的{what}。", fields={"target": f"请选择{what}"})
    return unit


def _close_rect(ctx: Context, row: Any, note: str) -> None:
    if row.rectification_id is None:
        return
    rect = service.lock(ctx, row.rectification_id)
    service.close_escalated(ctx, rect, note)


def _label(ctx: Context, row: Any) -> str:
    obj = ctx.session.get(InspectionObject, row.object_id)
    finding = ctx.session.get(Finding, row.finding_id)
    return f"「{obj.name if obj else ''}」{finding.item_name if finding else ''}"


def _tell(ctx: Context, staff: list[str], text: str, key: str) -> None:
    if staff:
        ctx.send_text(Users(tuple(staff)), text, key=key)


# -- 抄告 ----------------------------------------------------------------------------------------
def create_referral(
    ctx: Context, rect: Rectification | None, finding: Finding, to_unit: str, reason: str, matter: str = ""
) -> Referral:
    unit = _unit(ctx, to_unit, ("external", "government", "dept", "bureau"), "主管部门")
    due = _workdays_later(ctx, ctx.settings.referral_response_workdays)
    row = Referral(
        **_base(ctx, finding, rect, reason),
        to_unit_id=unit.id,
        matter=(matter or f"{finding.item_name}：{finding.facts}")[:2000],
        sent_at=ctx.now,
        response_due=due,
        state="sent",
    )
    ctx.session.add(row)
    ctx.session.flush()
    _audit(ctx, "referral", row, "create", to_unit_id=unit.id, response_due=due.isoformat())
    _due(ctx, "referral", row, "response", _remind_day(ctx, due))
    text = (
        f"【抄告】{_label(ctx, row)}：{row.matter}。理由：{row.reason}。请于 {due.isoformat()} 前反馈处理情况"
        f"（抄告第{row.id}号）。"
    )
    _tell(ctx, people.admins_staff(ctx, [unit.id]), text, f"referral:{row.id}:sent")
    return row


def _record_answer(ctx: Context, kind: str, row: Referral | Report, answer: str, note: str) -> None:
    """The answer that closes a referral or a report: stored and audited, its reminders stopped,
    the rectification it came from closed with ``note``."""
    row.state, row.response, row.responded_at, row.closed_at = (
        "answered",
        answer.strip()[:2000],
        ctx.now,
        ctx.now,
    )
    _audit(ctx, kind, row, "decide", response=row.response[:200])
    _audit(ctx, kind, row, "close")
    ctx.cancel_due(f"{kind}:{row.id}")
    _close_rect(ctx, row, note)


def answer_referral(ctx: Context, row: Referral, answer: str) -> str:
    _require_manager(ctx, row)
    if row.state != "sent":
        raise UserError(f"抄告第{row.id}号已于 {service._local(ctx, row.responded_at)} 记录答复。")
    if not answer.strip():
        raise UserError("请写明主管部门的答复。")
    _record_answer(ctx, "referral", row, answer, f"抄告第{row.id}号已答复")
    return f"已记录抄告第{row.id}号的答复，抄告办结。"


# -- 上报 ----------------------------------------------------------------------------------------
def create_report(
    ctx: Context, rect: Rectification | None, finding: Finding, matter: str, *, urgent: bool, reason: str = ""
) -> Report:
    if not matter.strip():
        raise UserError("请写明上报的事项。")
    to = list(
        ctx.session.execute(
            select(Unit.id).where(Unit.kind == "government", Unit.active.is_(True)).order_by(Unit.id)
        ).scalars()
    )
    if not to:
        raise UserError("名录中没有本级政府，无法上报。请先在单位名录中登记（类型：government）。")
    due = _workdays_later(ctx, ctx.settings.report_response_workdays)
    row = Report(
        **_base(ctx, finding, rect, reason or matter),
        to_unit_ids=to,
        severity="urgent" if urgent else "general",
        matter=matter.strip()[:2000],
        sent_at=ctx.now,
        response_due=due,
        state="sent",
    )
    ctx.session.add(row)
    ctx.session.flush()
    _audit(ctx, "report", row, "create", severity=row.severity, to_unit_ids=to)
    _due(ctx, "report", row, "response", _remind_day(ctx, due))
    text = f"【上报{'（紧急）' if urgent else ''}】{_label(ctx, row)}：{row.matter}（上报第{row.id}号）。"
    _tell(ctx, people.admins_staff(ctx, to), text, f"report:{row.id}:sent")
    if urgent:  # BR-29: urgent ones page the unit head at once (chat and work notice)
        heads = people.heads_staff(ctx, row.unit_id)
        _tell(ctx, heads, f"【紧急上报，请立即阅处】{text}", f"report:{row.id}:page")
        if heads:
            ctx.work_notice(heads, "紧急上报", f"### 紧急上报\n\n{text}", key=f"report:{row.id}:notice")
    return row


def answer_report(ctx: Context, row: Report, answer: str) -> str:
    _require_manager(ctx, row)
    if row.state != "sent":
        raise UserError(f"上报第{row.id}号已记录反馈。")
    if not answer.strip():
        raise UserError("请写明反馈内容。")
    _record_answer(ctx, "report", row, answer, f"上报第{row.id}号已反馈")
    return f"已记录上报第{row.id}号的反馈，上报办结。"


# -- 移送 ----------------------------------------------------------------------------------------
def create_transfer(
    ctx: Context,
    rect: Rectification | None,
    finding: Finding,
    police: str,
    reason: str,
    offence: str = "",
    facts: str = "",
) -> Transfer:
    """A team of at least two (the re-check's inspectors, else the original team) reports the
    suspected crime; the unit head decides within 3 days."""
    receiving = _unit(ctx, police, ("police",), "公安机关") if police else None
    team: list[int] = []
    if rect is not None:
        recheck = service.reinspection_of(ctx, rect.id)
        if recheck is not None and len(recheck.inspectors) >= 2:
            team = list(recheck.inspectors)
    if len(team) < 2:
        team = _original_team(ctx, finding)
    if len(team) < 2:
        raise UserError("移送须由不少于2名执法人员组成的专案组办理，本项检查组不足2人。")
    row = Transfer(
        **_base(ctx, finding, rect, reason),
        suspected_offence=(offence or "涉嫌犯罪")[:200],
        facts=(facts or finding.facts)[:4000],
        team=team,
        state="reported",
        reported_at=ctx.now,
        decision_due=ctx.now + timedelta(days=ctx.settings.transfer_decision_days),
        receiving_unit_id=receiving.id if receiving else None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    _audit(ctx, "transfer", row, "create", team=team, decision_due=row.decision_due.isoformat())
    _due(ctx, "transfer", row, "decision", row.decision_due)
    _tell(
        ctx,
        people.heads_staff(ctx, row.unit_id),
        f"【移送审批】{_label(ctx, row)}涉嫌{row.suspected_offence}，检查组报请移送（移送第{row.id}号）。"
        f"理由：{row.reason}。请在{ctx.settings.transfer_decision_days}日内决定："
        f"发送「移送 审批 {row.id} 同意」或「移送 审批 {row.id} 不同意 理由」。",
        f"transfer:{row.id}:report",
    )
    return row


def _original_team(ctx: Context, finding: Finding) -> list[int]:
    from storage.models import AssignmentMember, InspectionRecord

    record = ctx.session.get(InspectionRecord, finding.record_id)
    assert record is not None
    return list(
        ctx.session.execute(
            select(AssignmentMember.inspector_id)
            .where(
                AssignmentMember.assignment_id == record.assignment_id, AssignmentMember.state == "accepted"
            )
            .order_by(AssignmentMember.position)
        ).scalars()
    )


def _transfer_move(ctx: Context, row: Transfer, event: str, action: str, **extra: Any) -> None:
    before = row.state
    try:
        row.state = transfer_states.next_state(before, event)
    except transfer_states.IllegalTransition as exc:
        raise UserError(str(exc)) from None
    ctx.audit(
        f"transfer.{action}",
        "transfer",
        row.id,
        before={"state": before},
        after={"state": row.state},
        detail={"unit_id": row.unit_id, "task_id": row.task_id, "finding_id": row.finding_id, **extra},
    )


def decide_transfer(ctx: Context, row: Transfer, approve: bool, reason: str, police: str = "") -> str:
    if not people.is_head(ctx, row.unit_id):
        raise UserError("移送须由本单位负责人审批。")
    row.approver_person_id = ctx.person.id if ctx.person else None
    row.decided_at = ctx.now
    ctx.cancel_due(f"transfer:{row.id}", DUE)
    if not approve:
        if not reason.strip():
            raise UserError("不批准移送的，须写明理由。")
        row.refused_reason = reason.strip()[:2000]
        _transfer_move(ctx, row, "refuse", "decide", decision="refused", reason=row.refused_reason[:200])
        _close_transfer(ctx, row, f"移送未获批准：{row.refused_reason[:100]}")
        return f"已记录不批准移送第{row.id}号及理由，移送办结。"
    if police:
        row.receiving_unit_id = _unit(ctx, police, ("police",), "公安机关").id
    row.transfer_due = ctx.now + timedelta(hours=ctx.settings.transfer_hours)
    _transfer_move(
        ctx, row, "approve", "decide", decision="approved", transfer_due=row.transfer_due.isoformat()
    )
    _due(ctx, "transfer", row, "transfer", row.transfer_due)
    missing = missing_attachments(ctx, row)
    _tell(
        ctx,
        people.admins_staff(ctx, [row.unit_id]),
        f"【移送已批准】移送第{row.id}号（{_label(ctx, row)}）须在{ctx.settings.transfer_hours}小时内移送公安机关。"
        + (f"尚缺附件：{'、'.join(TRANSFER_ATTACHMENTS[k] for k in missing)}。" if missing else ""),
        f"transfer:{row.id}:approved",
    )
    return f"已批准移送第{row.id}号，须在{ctx.settings.transfer_hours}小时内移送。"


def attachments(ctx: Context, row: Transfer) -> dict[str, list[Evidence]]:
    found: dict[str, list[Evidence]] = {}
    rows = ctx.session.execute(
        select(Evidence).where(Evidence.role.like(f"transfer:{row.id}:%"), Evidence.state == "stored")
    ).scalars()
    for evidence in rows:
        found.setdefault((evidence.role or "").rsplit(":", 1)[-1], []).append(evidence)
    return found


def missing_attachments(ctx: Context, row: Transfer) -> list[str]:
    present = attachments(ctx, row)
    return [kind for kind in REQUIRED_ATTACHMENTS if not present.get(kind)]


def mark_transferred(ctx: Context, row: Transfer) -> str:
    """Refused unless the four attachments of 国务院令310号 are stored (BR-28)."""
    _require_manager(ctx, row)
    missing = missing_attachments(ctx, row)
    if missing:
        raise UserError(
            f"移送第{row.id}号尚缺附件：{'、'.join(TRANSFER_ATTACHMENTS[k] for k in missing)}，不能标记为已移送。"
            f"请发送「移送 附件 {row.id} 类型」后在单聊中发送文件。"
        )
    if row.receiving_unit_id is None:
        raise UserError("请先指定接收移送的公安机关（移送 审批 时写明，或由负责人补充）。")
    row.transferred_at = ctx.now
    row.police_due = ctx.now + timedelta(days=ctx.settings.police_decision_days)
    _transfer_move(ctx, row, "transfer", "transferred", receiving_unit_id=row.receiving_unit_id)
    ctx.cancel_due(f"transfer:{row.id}", DUE)
    _due(ctx, "transfer", row, "police", row.police_due)
    return f"已标记移送第{row.id}号已移送，公安机关应在{ctx.settings.police_decision_days}日内作出是否立案的决定。"


def police_decision(ctx: Context, row: Transfer, filed: bool) -> str:
    _require_manager(ctx, row)
    row.police_decision, row.police_decided_at = ("filed" if filed else "refused"), ctx.now
    ctx.cancel_due(f"transfer:{row.id}", DUE)
    if filed:
        row.handover_due = ctx.now + timedelta(days=ctx.settings.handover_days)
        _transfer_move(ctx, row, "police_file", "police_decision", decision="filed")
        _due(ctx, "transfer", row, "handover", row.handover_due)
        return f"已登记公安机关立案，请在{ctx.settings.handover_days}日内移交涉案物品和有关材料。"
    row.reconsideration_due = ctx.now + timedelta(days=ctx.settings.reconsideration_days)
    _transfer_move(ctx, row, "police_refuse", "police_decision", decision="refused")
    _due(ctx, "transfer", row, "reconsideration", row.reconsideration_due)
    return (
        f"已登记公安机关不予立案。可在{ctx.settings.reconsideration_days}日内申请复议（移送 复议 {row.id}），"
        f"或提请检察机关监督（移送 监督 {row.id}），或办结（移送 办结 {row.id}）。"
    )


def transfer_step(ctx: Context, row: Transfer, event: str) -> str:
    _require_manager(ctx, row)
    ctx.cancel_due(f"transfer:{row.id}", DUE)
    if event == "reconsider":
        row.reconsideration_at = ctx.now
        _transfer_move(ctx, row, "reconsider", "reconsideration")
        return f"已登记申请复议（移送第{row.id}号）。"
    if event == "supervise":
        _transfer_move(ctx, row, "supervise", "supervision")
        return f"已登记提请检察机关监督（移送第{row.id}号）。"
    if event == "hand_over":
        row.handed_over_at = ctx.now
        _transfer_move(ctx, row, "hand_over", "handover")
        return f"已登记移交涉案物品和材料（移送第{row.id}号）。"
    _close_transfer(ctx, row, "移送办结")
    return f"移送第{row.id}号已办结。"


def _close_transfer(ctx: Context, row: Transfer, note: str) -> None:
    _transfer_move(ctx, row, "close", "close", note=note)
    row.closed_at = ctx.now
    _close_rect(ctx, row, note)


# -- 信用惩戒建议 -------------------------------------------------------------------------------
def create_credit(
    ctx: Context,
    rect: Rectification | None,
    finding: Finding,
    proposed_list: str,
    reason: str,
    to_unit: str = "",
) -> CreditProposal:
    if proposed_list not in CREDIT_LISTS:
        raise UserError(
            "请选择建议列入的名单：重点监管对象或严重违法失信名单。", fields={"target": "请选择名单"}
        )
    agency = (
        _unit(ctx, to_unit, ("external", "government", "dept", "bureau"), "信用主管部门") if to_unit else None
    )
    due = _workdays_later(ctx, ctx.settings.credit_decision_workdays)
    row = CreditProposal(
        **_base(ctx, finding, rect, reason),
        proposed_list=proposed_list,
        to_unit_id=agency.id if agency else None,
        proposed_at=ctx.now,
        decision_due=due,
        state="proposed",
    )
    ctx.session.add(row)
    ctx.session.flush()
    _audit(ctx, "credit", row, "create", proposed_list=proposed_list, decision_due=due.isoformat())
    _due(ctx, "credit", row, "decision", _remind_day(ctx, due))
    _tell(
        ctx,
        people.heads_staff(ctx, row.unit_id),
        f"【信用惩戒建议】{_label(ctx, row)}：建议{CREDIT_LISTS[proposed_list]}（建议第{row.id}号），理由：{row.reason}。"
        f"这是向信用主管部门提出的建议，收到决定后请发送「信用 决定 {row.id} 列入」或「信用 决定 {row.id} 不列入」。",
        f"credit:{row.id}:proposed",
    )
    return row


def decide_credit(
    ctx: Context,
    row: CreditProposal,
    listed: bool,
    note: str,
    start: date | None = None,
    end: date | None = None,
) -> str:
    """Record the owning agency's decision (BR-27). A listing sets the object's key-supervision
    flag (and the dishonesty flag when that list was decided) with dates, through the
    directory's editor so the object's history keeps the change; the draw weights it from then."""
    _require_manager(ctx, row)
    if row.state != "proposed":
        raise UserError(f"建议第{row.id}号已记录决定。")
    start = start or _today(ctx)
    if listed:
        end = end or start.replace(year=start.year + ctx.settings.credit_listing_years)
        if end < start:
            raise UserError("列入期限的结束日期不能早于开始日期。")
    row.state, row.decision, row.decision_note = "decided", ("listed" if listed else "rejected"), note[:2000]
    row.decided_at, row.decided_by_person_id, row.closed_at = (
        ctx.now,
        ctx.person.id if ctx.person else None,
        ctx.now,
    )
    if listed:
        row.list_from, row.list_to = start, end
        obj = ctx.session.get(InspectionObject, row.object_id)
        assert obj is not None
        values: dict[str, Any] = {"key_supervision_from": start, "key_supervision_to": end}
        if row.proposed_list == "dishonest":
            values.update(dishonest_from=start, dishonest_to=end)
        DirectoryEditor.for_context(ctx).update(
            obj,
            values,
            reason=f"信用惩戒建议第{row.id}号：{CREDIT_LISTS[row.proposed_list]}（{note or '已决定'}）",
        )
    _audit(
        ctx,
        "credit",
        row,
        "decide",
        decision=row.decision,
        list_from=start.isoformat() if listed else None,
        list_to=end.isoformat() if listed and end else None,
    )
    _audit(ctx, "credit", row, "close")
    ctx.cancel_due(f"credit:{row.id}")
    _close_rect(ctx, row, f"信用惩戒建议第{row.id}号已有决定")
    if listed:
        return f"已记录决定：{CREDIT_LISTS[row.proposed_list]}（{start.isoformat()} 至 {end}），对象已标记为重点监管。"
    return f"已记录决定：不列入。建议第{row.id}号办结。"


# -- shared --------------------------------------------------------------------------------------
def _require_manager(ctx: Context, row: Any) -> None:
    from storage.models.tasks import Task

    task = ctx.session.get(Task, row.task_id)
    if not people.manages(ctx, row.unit_id, task):
        raise UserError("只有责任单位或牵头单位的管理员、局领导可以办理这一步。")


def lock(ctx: Context, kind: str, row_id: int) -> Any:
    model = MODELS[kind]
    row = ctx.session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise UserError(f"找不到{TITLES[kind]}第{row_id}号。")
    return row


WAITING = {
    ("referral", "response"): ("sent",),
    ("report", "response"): ("sent",),
    ("credit", "decision"): ("proposed",),
    ("transfer", "decision"): ("reported",),
    ("transfer", "transfer"): ("approved",),
    ("transfer", "police"): ("transferred",),
    ("transfer", "reconsideration"): ("police_refused",),
    ("transfer", "handover"): ("police_filed",),
}
STEP_TEXT = {
    ("referral", "response"): "主管部门的答复期限已到，尚未记录答复，请跟进（抄告 答复 {id} 内容）。",
    ("report", "response"): "上报的反馈期限已到，尚未记录反馈，请跟进（上报 反馈 {id} 内容）。",
    ("credit", "decision"): "信用惩戒建议尚未收到决定，请跟进（信用 决定 {id} 列入/不列入）。",
    ("transfer", "decision"): "移送报请已满3日，负责人尚未审批（移送 审批 {id} 同意/不同意）。",
    ("transfer", "transfer"): "移送已批准满24小时，尚未标记已移送（移送 已移送 {id}）。",
    ("transfer", "police"): "移送已满3日，尚未登记公安机关是否立案（移送 立案/不立案 {id}）。",
    (
        "transfer",
        "reconsideration",
    ): "公安机关不予立案已满3日，复议期限已过（移送 办结 {id} 或 移送 监督 {id}）。",
    ("transfer", "handover"): "公安机关立案已满3日，尚未登记移交涉案物品（移送 移交 {id}）。",
}


def on_due(ctx: TickContext, item: Any) -> None:
    """A disposition's deadline: if it is still waiting, the responsible unit (and for a
    transfer's decision, the head) is reminded. Fixed keys: sent once."""
    kind, _, row_id = str(item.ref).partition(":")
    step = (item.payload or {}).get("step", "")
    row = ctx.session.get(MODELS[kind], int(row_id))
    if row is None or row.state not in WAITING.get((kind, step), ()):
        return
    text = f"【{TITLES[kind]}第{row.id}号到期提醒】{_label(ctx, row)}：" + STEP_TEXT[(kind, step)].format(
        id=row.id
    )
    staff = people.admins_staff(ctx, [row.unit_id])
    if (kind, step) == ("transfer", "decision"):
        staff = sorted(set(staff) | set(people.heads_staff(ctx, row.unit_id)))
    ctx.audit(
        f"{kind}.remind", kind, row.id, detail={"unit_id": row.unit_id, "task_id": row.task_id, "step": step}
    )
    _tell(ctx, staff, text, f"{kind}:{row.id}:{step}:remind")


service.escalations.update(
    referral=lambda ctx, rect, finding, target, reason: create_referral(ctx, rect, finding, target, reason),
    transfer=lambda ctx, rect, finding, target, reason: create_transfer(ctx, rect, finding, target, reason),
    credit=lambda ctx, rect, finding, target, reason: create_credit(ctx, rect, finding, target, reason),
)
