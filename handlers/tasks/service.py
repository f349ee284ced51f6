"""Task operations. Each runs inside the caller's one transaction and leaves, besides the state
change, an audit row and the outbox rows for what must be sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import CardContext, Context, Group, UserError, Users
from cards.tasks import TaskView, UnitRow, approval_card, task_card
from handlers.tasks import hooks
from handlers.tasks.proposal import DRAW_LABELS, SOURCES, Proposal, validate
from handlers.tasks.states import STATE_LABELS, IllegalTransition, next_state
from storage.identity import staff_ids_of
from storage.models import METHOD_LABELS, ROLE_LEADER, ROLE_UNIT_ADMIN, Person, PersonRole, Scenario, Unit
from storage.models.tasks import Task, TaskAnswer, TaskUnit, TaskVersion
from storage.numbers import allocate, format_number

UNIT_STATE_LABELS = {
    "pending": "待答复",
    "agreed": "同意",
    "change": "提出修改",
    "declined": "不参与",
    "dropped": "已移出",
}
DECISIONS = {"agree": "agreed", "change": "change", "decline": "declined"}
TASK_CODE = "联查"


def card_id(task: Task) -> str:
    return f"task-{task.id}"


def approval_card_id(task: Task) -> str:
    return f"task-{task.id}-approval-v{task.version}"


def today(ctx: Context) -> date:
    return ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).date()


# -- who may do what ---------------------------------------------------------------------------
def admin_unit_ids(person: Person | None) -> set[int]:
    """Units the person administers (a unit-admin role scoped to a unit, or to their own unit)."""
    if person is None:
        return set()
    units = set()
    for role in person.roles:
        if role.role == ROLE_UNIT_ADMIN:
            unit_id = role.unit_id or person.unit_id
            if unit_id is not None:
                units.add(unit_id)
    return units


def require_lead_admin(ctx: Context, task: Task) -> None:
    if task.lead_unit_id not in admin_unit_ids(ctx.person):
        raise UserError(f"只有牵头单位（{task.lead_unit.name}）的管理员可以办理这一步。")


def answering_unit(ctx: Context, task: Task) -> TaskUnit:
    mine = admin_unit_ids(ctx.person)
    for unit in task.units:
        if unit.unit_id in mine:
            return unit
    raise UserError("只有协同单位的管理员可以代表本单位答复磋商。")


def unit_admins(session: Session, unit_ids: Iterable[int]) -> list[Person]:
    ids = list(set(unit_ids))
    if not ids:
        return []
    query = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == ROLE_UNIT_ADMIN, PersonRole.unit_id.in_(ids), Person.active.is_(True))
        .distinct()
    )
    return list(session.execute(query).scalars())


def staff_of(ctx: Context, people: Iterable[Person]) -> list[str]:
    mapping = staff_ids_of(ctx.session, [p.id for p in people], corp_id=ctx.settings.corp_id)
    return sorted(set(mapping.values()))


def approver_for(session: Session, task: Task) -> Person | None:
    if task.lead_unit.approver_person_id:
        person = session.get(Person, task.lead_unit.approver_person_id)
        if person is not None and person.active:
            return person
    query = (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == ROLE_LEADER, Person.active.is_(True))
        .order_by(Person.id)
    )
    return session.execute(query).scalars().first()


# -- lookups ------------------------------------------------------------------------------------
def lock(session: Session, task_id: int) -> Task:
    # FOR UPDATE OF task: PostgreSQL refuses to lock the nullable side of the eager outer joins.
    task = session.get(Task, task_id, with_for_update={"of": Task}, populate_existing=True)
    if task is None:
        raise UserError("找不到这个任务。")
    return task


def find(session: Session, reference: str, *, year: int) -> Task | None:
    reference = reference.strip()
    task = session.execute(select(Task).where(Task.number == reference)).scalar_one_or_none()
    if task is not None:
        return task
    digits = reference.removesuffix("号").strip()
    if digits.isdigit():
        matches = list(
            session.execute(select(Task).where(Task.year == year, Task.seq == int(digits))).scalars()
        )
        if len(matches) == 1:
            return matches[0]
    return None


# -- views -------------------------------------------------------------------------------------
def proposal_fields(task: Task) -> list[tuple[str, str]]:
    count = f"{task.object_count} 家" if task.object_count is not None else f"{task.object_ratio:g}%"
    fields = [
        ("牵头单位", task.lead_unit.name),
        ("检查场景", task.scenario.name),
    ]
    if task.theme is not None:
        fields.append(("监管一件事", task.theme.name))
    fields += [
        ("任务来源", SOURCES.get(task.source, task.source)),
        ("检查方式", METHOD_LABELS.get(task.method, task.method)),
        ("检查时间", f"{task.window_start.isoformat()} 至 {task.window_end.isoformat()}"),
        ("抽取对象", count),
        ("每户人数", f"{task.inspectors_per_object} 人"),
        ("抽取方式", DRAW_LABELS.get(task.draw_mode, task.draw_mode)),
        ("事先通报", "事先通知" if task.prenotice == "send" else f"不事先通知（{task.prenotice_reason}）"),
        ("版本", f"第 {task.version} 版 · 第 {max(task.round, 1)} 轮磋商"),
    ]
    if task.remarks:
        fields.append(("备注", task.remarks))
    return fields


def unit_rows(task: Task) -> list[UnitRow]:
    return [
        UnitRow(u.unit.name, UNIT_STATE_LABELS.get(u.state, u.state), u.comment or "") for u in task.units
    ]


def next_step_note(task: Task) -> str:
    remaining = [u for u in task.units if u.state != "dropped"]
    if task.state == "negotiating":
        waiting = [u.unit.name for u in remaining if u.state == "pending"]
        declined = [u.unit.name for u in remaining if u.state == "declined"]
        if declined:
            return f"**{'、'.join(declined)}** 不参与，请牵头单位决定移出该单位或撤销任务。"
        if waiting:
            return f"等待 **{'、'.join(waiting)}** 答复。"
        return "所有协同单位已同意，请牵头单位确认并报送审批。"
    if task.state == "draft":
        if task.returned_reason:
            return f"审批退回：{task.returned_reason}。请牵头单位修改后重新发起。"
        return "有单位提出修改，请牵头单位修改后重新发起磋商。"
    if task.state == "confirmed":
        return "已报送审批，等待审批人批准。"
    if task.state == "approved":
        return "已批准，进入双随机抽取和一键分发。"
    if task.state == "cancelled":
        return f"任务已撤销：{task.cancelled_reason or ''}"
    return ""


def view(task: Task, *, progress: list[tuple[str, str]] | None = None) -> TaskView:
    remaining = [u for u in task.units if u.state != "dropped"]
    negotiating = task.state == "negotiating"
    return TaskView(
        number=task.number,
        scenario=task.scenario.name,
        state_label=STATE_LABELS.get(task.state, task.state),
        fields=proposal_fields(task),
        rows=unit_rows(task),
        note=next_step_note(task),
        version=task.version,
        can_answer=negotiating,
        can_confirm=negotiating and all(u.state == "agreed" for u in remaining),
        can_edit=task.state == "draft",
        can_drop=negotiating and any(u.state == "declined" for u in remaining),
        can_cancel=task.state in ("draft", "negotiating", "confirmed", "approved"),
        drop_options=[(u.unit_id, u.unit.name) for u in remaining if u.state == "declined"],
        progress=progress if progress is not None else hooks.progress(task),
    )


def publish_card(ctx: Context, task: Task) -> dict[str, str]:
    """Bring the group's task card up to date. Returns the params when the clicked card is this
    card (the callback answer carries them, so no second update is queued)."""
    params = task_card(view(task))
    readonly = task.state in ("cancelled", "closed")
    if isinstance(ctx, CardContext) and ctx.card.out_track_id == card_id(task):
        if readonly:
            ctx.card.state = "readonly"
        return params
    if task.conversation_id:
        ctx.send_card(
            "task_card", card_id(task), Group(task.conversation_id), params, entity=("task", task.id)
        )
        if readonly:
            ctx.update_card(card_id(task), params, readonly=True)
    return {}


def snapshot(task: Task) -> dict[str, Any]:
    return {
        "number": task.number,
        "state": task.state,
        "version": task.version,
        "round": task.round,
        "scenario_id": task.scenario_id,
        "theme_id": task.theme_id,
        "source": task.source,
        "method": task.method,
        "window_start": task.window_start.isoformat(),
        "window_end": task.window_end.isoformat(),
        "object_count": task.object_count,
        "object_ratio": task.object_ratio,
        "inspectors_per_object": task.inspectors_per_object,
        "draw_mode": task.draw_mode,
        "prenotice": task.prenotice,
        "prenotice_reason": task.prenotice_reason,
        "remarks": task.remarks,
        "units": {str(u.unit_id): u.state for u in task.units},
    }


def _move(ctx: Context, task: Task, event: str, **detail: Any) -> None:
    before = snapshot(task)
    try:
        task.state = next_state(task.state, event)
    except IllegalTransition as exc:
        raise UserError(str(exc)) from None
    task.updated_at = ctx.now
    ctx.audit(f"task.{event}", "task", task.id, before=before, after=snapshot(task), detail=detail or None)


# -- creating ----------------------------------------------------------------------------------
def advice(ctx: Context, task: Task) -> list[str]:
    """Non-blocking advice shown when a task is posted (BR-37 non-site method, BR-11 cap)."""
    notes = []
    items = [item.power_item for item in task.scenario.items]
    if task.method == "on_site" and items and all(set(i.methods) - {"on_site"} for i in items):
        allowed = set.intersection(*(set(i.methods) for i in items)) - {"on_site"}
        if allowed:
            words = "或".join(METHOD_LABELS[m] for m in sorted(allowed))
            notes.append(
                f"提示：本场景的检查事项均可采用{words}，能不进门的尽量不进门，请考虑改用非现场方式。"
            )
    over = hooks.objects_over_onsite_cap(ctx.session, task, ctx.settings.onsite_yearly_cap)
    if task.method == "on_site" and over:
        notes.append(
            f"提示：候选对象中有 {over} 家今年已被本机关实地检查 {ctx.settings.onsite_yearly_cap} 次，"
            "再次抽中时需写明理由。"
        )
    return notes


def create(ctx: Context, proposal: Proposal, *, conversation_id: str) -> tuple[Task, list[str]]:
    if ctx.person is None:
        raise UserError("请先登记为本系统用户。")
    problems = validate(proposal, today=today(ctx))
    if problems:
        raise UserError("；".join(problems.values()), fields=problems)
    scenario = ctx.session.get(Scenario, proposal.scenario_id)
    if scenario is None or not scenario.active:
        raise UserError("检查场景不存在或已停用。", fields={"scenario": "检查场景不存在或已停用"})
    if scenario.lead_unit_id not in admin_unit_ids(ctx.person):
        raise UserError(
            f"「{scenario.name}」由{scenario.lead_unit.name}牵头，只有该单位管理员可以发起。",
            fields={"scenario": "只能选择本单位牵头的场景"},
        )
    lead: Unit = scenario.lead_unit
    year = today(ctx).year
    seq = allocate(ctx.session, issuer=lead.short_name, code=TASK_CODE, year=year)
    task = Task(
        number=format_number(
            ctx.settings.task_number_pattern, issuer=lead.short_name, code=TASK_CODE, year=year, seq=seq
        ),
        year=year,
        seq=seq,
        scenario_id=scenario.id,
        theme_id=proposal.theme_id,
        lead_unit_id=lead.id,
        source=proposal.source,
        method=proposal.method,
        window_start=proposal.window_start,
        window_end=proposal.window_end,
        object_count=proposal.object_count,
        object_ratio=proposal.object_ratio,
        inspectors_per_object=proposal.per_object,
        draw_mode=proposal.draw_mode,
        area_codes=list(proposal.area_codes),
        prenotice=proposal.prenotice,
        prenotice_reason=proposal.prenotice_reason or None,
        remarks=proposal.remarks or None,
        state="draft",
        version=1,
        round=0,
        conversation_id=conversation_id,
        created_by_person_id=ctx.person.id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    for co_unit in scenario.co_units:
        if co_unit.unit_id != lead.id:
            task.units.append(TaskUnit(unit_id=co_unit.unit_id, state="pending"))
    ctx.session.add(task)
    ctx.session.flush()
    ctx.session.refresh(task)
    ctx.session.add(
        TaskVersion(
            task_id=task.id,
            version=1,
            data=proposal.as_dict(),
            reason="发起",
            created_by_person_id=ctx.person.id,
            created_at=ctx.now,
        )
    )
    ctx.audit("task.create", "task", task.id, after=snapshot(task))
    notes = advice(ctx, task)
    start_round(ctx, task)
    return task, notes


def start_round(ctx: Context, task: Task) -> None:
    """Open a negotiation round: everyone not dropped answers again; reminders are scheduled."""
    task.round += 1
    task.returned_reason = None
    for unit in task.units:
        if unit.state != "dropped":
            unit.state = "pending"
            unit.comment = None
            unit.answered_at = None
            unit.answered_by_person_id = None
    _move(ctx, task, "submit", round=task.round, version=task.version)
    publish_card(ctx, task)
    ref = f"task:{task.id}"
    pending = [u.unit_id for u in task.units if u.state == "pending"]
    if pending:
        remind_at = ctx.now + timedelta(hours=ctx.settings.negotiation_remind_hours)
        stall_at = ctx.now + timedelta(hours=ctx.settings.negotiation_stall_hours)
        ctx.schedule(
            "task.negotiation_remind",
            ref,
            remind_at,
            key=f"{ref}:r{task.round}:remind",
            payload={"round": task.round},
        )
        ctx.schedule(
            "task.negotiation_stalled",
            ref,
            stall_at,
            key=f"{ref}:r{task.round}:stalled",
            payload={"round": task.round},
        )
        admins = staff_of(ctx, unit_admins(ctx.session, pending))
        names = "、".join(u.unit.name for u in task.units if u.state == "pending")
        text = (
            f"【线上磋商】{task.number}（{task.scenario.name}）第 {task.round} 轮磋商已发起，"
            f"请{names}的管理员在群内任务卡片上答复：同意、提出修改或不参与。"
        )
        if admins:
            ctx.send_text(Users(tuple(admins)), text, key=f"{ref}:r{task.round}:invite")
    else:
        ctx.send_text(
            Group(task.conversation_id or ""),
            f"{task.number} 无需协同单位磋商，请牵头单位确认并报送审批。",
            key=f"{ref}:r{task.round}:solo",
        )


# -- negotiating -------------------------------------------------------------------------------
def check_version(task: Task, version: str) -> None:
    if version and version.isdigit() and int(version) != task.version:
        raise UserError(
            f"您操作的是第 {version} 版任务卡片，任务已更新为第 {task.version} 版，请在最新的卡片上操作。"
        )


def answer(ctx: Context, task: Task, decision: str, *, comment: str, changes: dict[str, Any]) -> TaskUnit:
    if task.state != "negotiating":
        raise UserError(f"任务当前状态为「{STATE_LABELS[task.state]}」，不在磋商中，不能答复。")
    unit = answering_unit(ctx, task)
    if unit.state == "dropped":
        raise UserError("本单位已被牵头单位移出此任务。")
    if decision in ("change", "decline") and not comment:
        field = "comment"
        raise UserError("提出修改或不参与时，请在「意见或理由」里写明原因。", fields={field: "请写明原因"})
    assert ctx.person is not None
    previous = ctx.session.execute(
        select(TaskAnswer).where(
            TaskAnswer.task_id == task.id,
            TaskAnswer.round == task.round,
            TaskAnswer.unit_id == unit.unit_id,
            TaskAnswer.current.is_(True),
        )
    ).scalar_one_or_none()
    if previous is not None:
        previous.current = False
    record = TaskAnswer(
        task_id=task.id,
        round=task.round,
        version=task.version,
        unit_id=unit.unit_id,
        decision=decision,
        comment=comment or None,
        proposal=changes or None,
        person_id=ctx.person.id,
        at=ctx.now,
        replaces_id=previous.id if previous else None,
        current=True,
    )
    ctx.session.add(record)
    before = unit.state
    unit.state = DECISIONS[decision]
    unit.comment = _comment_with_changes(comment, changes)
    unit.answered_at = ctx.now
    unit.answered_by_person_id = ctx.person.id
    ctx.session.flush()
    ctx.audit(
        "task.answer",
        "task",
        task.id,
        before={"unit_id": unit.unit_id, "state": before},
        after={"unit_id": unit.unit_id, "state": unit.state, "round": task.round},
        detail={
            "decision": decision,
            "comment": comment,
            "changes": changes,
            "replaces": previous.id if previous else None,
        },
    )
    if decision == "change":
        _move(ctx, task, "request_change", unit_id=unit.unit_id, comment=comment)
        lead_admins = staff_of(ctx, unit_admins(ctx.session, [task.lead_unit_id]))
        if lead_admins:
            ctx.send_text(
                Users(tuple(lead_admins)),
                f"{task.number}：{unit.unit.name}提出修改意见：{unit.comment}。请修改后在群内任务卡片上重新发起磋商。",
            )
    if task.state == "negotiating" and all(u.state == "agreed" for u in task.units if u.state != "dropped"):
        ctx.cancel_due(f"task:{task.id}", "task.negotiation_remind", "task.negotiation_stalled")
    return unit


def _comment_with_changes(comment: str, changes: dict[str, Any]) -> str:
    parts = [comment] if comment else []
    if changes.get("window_start") or changes.get("window_end"):
        parts.append(f"建议时间 {changes.get('window_start', '')} 至 {changes.get('window_end', '')}")
    if changes.get("count"):
        parts.append(f"建议数量 {changes['count']} 家")
    return "；".join(parts)


def drop(ctx: Context, task: Task, unit_id: int, reason: str) -> None:
    require_lead_admin(ctx, task)
    if task.state != "negotiating":
        raise UserError("只能在磋商中移出不参与的单位。")
    if not reason:
        raise UserError("请写明移出理由。", fields={"drop_reason": "请写明移出理由"})
    target = next((u for u in task.units if u.unit_id == unit_id), None)
    if target is None or target.state != "declined":
        raise UserError("只能移出已表示不参与的单位。", fields={"drop_unit": "请选择已表示不参与的单位"})
    target.state = "dropped"
    target.dropped_reason = reason
    ctx.audit(
        "task.drop_unit",
        "task",
        task.id,
        before={"unit_id": unit_id, "state": "declined"},
        after={"unit_id": unit_id, "state": "dropped"},
        detail={"reason": reason},
    )
    remaining = [u for u in task.units if u.state != "dropped"]
    if all(u.state == "agreed" for u in remaining):
        ctx.cancel_due(f"task:{task.id}", "task.negotiation_remind", "task.negotiation_stalled")


def confirm(ctx: Context, task: Task) -> Person:
    require_lead_admin(ctx, task)
    remaining = [u for u in task.units if u.state != "dropped"]
    not_yet = [u.unit.name for u in remaining if u.state != "agreed"]
    if task.state == "negotiating" and not_yet:
        raise UserError(f"还有单位未同意：{'、'.join(not_yet)}。全部同意或移出后才能确认。")
    approver = approver_for(ctx.session, task)
    if approver is None:
        raise UserError(f"{task.lead_unit.name}尚未配置审批人，请系统管理员配置后再确认。")
    task.confirmed_at = ctx.now
    task.approver_person_id = approver.id
    _move(ctx, task, "confirm", approver_person_id=approver.id)
    ctx.cancel_due(f"task:{task.id}", "task.negotiation_remind", "task.negotiation_stalled")
    staff = staff_of(ctx, [approver])
    if not staff:
        raise UserError(f"审批人{approver.name}没有绑定钉钉账号，无法送达审批卡片。")
    notes = advice(ctx, task)
    note = "\n\n".join(["请审核以下联合检查任务（检查必审批）。", *notes])
    ctx.send_card(
        "task_approval",
        approval_card_id(task),
        staff[0],
        approval_card(view(task), pending=True, status="待审批", note=note),
        audience=staff,
        entity=("task", task.id),
    )
    return approver


# -- approving ---------------------------------------------------------------------------------
def require_approver(ctx: Context, task: Task) -> None:
    if ctx.person is None or ctx.person.id != task.approver_person_id:
        raise UserError("只有本任务的审批人可以审批。")


def approve(ctx: Context, task: Task) -> None:
    require_approver(ctx, task)
    assert ctx.person is not None
    task.approved_by_person_id = ctx.person.id
    task.approved_at = ctx.now
    _move(ctx, task, "approve")
    publish_card(ctx, task)
    if task.conversation_id:
        ctx.send_text(
            Group(task.conversation_id), f"{task.number}（{task.scenario.name}）已由{ctx.person.name}批准。"
        )
    for hook in hooks.on_approved:
        hook(ctx, task)


def return_(ctx: Context, task: Task, reason: str) -> None:
    require_approver(ctx, task)
    if not reason:
        raise UserError("请写明退回理由。", fields={"reason": "请写明退回理由"})
    task.returned_reason = reason
    _move(ctx, task, "return", reason=reason)
    publish_card(ctx, task)
    lead_admins = staff_of(ctx, unit_admins(ctx.session, [task.lead_unit_id]))
    if lead_admins:
        ctx.send_text(
            Users(tuple(lead_admins)),
            f"{task.number} 被审批退回：{reason}。请修改后在群内任务卡片上重新发起。",
        )


def resend(ctx: Context, task: Task, edits: dict[str, Any], reason: str) -> None:
    """The lead edits a draft; the edit is a new version and opens a new round."""
    require_lead_admin(ctx, task)
    if task.state != "draft":
        raise UserError("只有退回修改的任务才能修改后重新发起。")
    proposal = Proposal(
        scenario_id=task.scenario_id,
        theme_id=task.theme_id,
        source=task.source,
        method=task.method,
        window_start=edits.get("window_start") or task.window_start,
        window_end=edits.get("window_end") or task.window_end,
        object_count=edits.get("count") or task.object_count,
        object_ratio=None if edits.get("count") else task.object_ratio,
        per_object=task.inspectors_per_object,
        draw_mode=task.draw_mode,
        prenotice=task.prenotice,
        prenotice_reason=task.prenotice_reason or "",
        remarks=task.remarks or "",
    )
    problems = validate(proposal, today=today(ctx))
    if problems:
        renamed = {
            f"edit_{k}" if k in ("window_start", "window_end", "count") else k: v for k, v in problems.items()
        }
        raise UserError("；".join(problems.values()), fields=renamed)
    task.window_start, task.window_end = proposal.window_start, proposal.window_end  # type: ignore[assignment]
    task.object_count, task.object_ratio = proposal.object_count, proposal.object_ratio
    task.version += 1
    assert ctx.person is not None
    ctx.session.add(
        TaskVersion(
            task_id=task.id,
            version=task.version,
            data=proposal.as_dict(),
            reason=reason or "修改后重新发起",
            created_by_person_id=ctx.person.id,
            created_at=ctx.now,
        )
    )
    ctx.audit(
        "task.revise",
        "task",
        task.id,
        after={"version": task.version, "proposal": proposal.as_dict()},
        detail={"reason": reason},
    )
    start_round(ctx, task)


def cancel(ctx: Context, task: Task, reason: str) -> None:
    require_lead_admin(ctx, task)
    if not reason:
        raise UserError("请写明撤销理由。", fields={"cancel_reason": "请写明撤销理由"})
    task.cancelled_reason = reason
    task.cancelled_at = ctx.now
    _move(ctx, task, "cancel", reason=reason)
    ctx.cancel_due(f"task:{task.id}")
    publish_card(ctx, task)
    people = unit_admins(ctx.session, [u.unit_id for u in task.units])
    if task.approver_person_id:
        approver = ctx.session.get(Person, task.approver_person_id)
        if approver is not None:
            people.append(approver)
    staff = staff_of(ctx, people)
    text = f"{task.number}（{task.scenario.name}）已由牵头单位撤销，理由：{reason}。"
    if staff:
        ctx.send_text(Users(tuple(staff)), text, key=f"task:{task.id}:cancelled:notify")
    if task.conversation_id:
        ctx.send_text(Group(task.conversation_id), text, key=f"task:{task.id}:cancelled:group")
    for hook in hooks.on_cancelled:
        hook(ctx, task)
