"""一键分发: dispatch cards to every team member, their answers, replacements and reminders.

Every operation is one transaction with its audit rows and outbox rows. Cards have fixed
outTrackIds (``dispatch-{assignment}-{inspector}``), so a retried create reaches the same card,
and answers are idempotent on the member's state: a second click (or a redelivery after the
dedupe window) finds the member already accepted and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.context import CardResult, CardToSend, Context, UserError, Users
from bot.gcpause import paused_gc
from cards.draw import TeamRow, dispatch_answered, dispatch_card, team_update
from handlers.draw import algorithm, codes, notices
from handlers.draw.pool import conflicts, inspector_pool, loads, unit_tags
from handlers.draw.publish import refresh
from handlers.draw.service import (
    LIVE,
    Prepared,
    active_assignments,
    explain,
    members_of,
    new_seed,
    record,
    seal,
)
from handlers.draw.views import Facts, dispatch_view, load_facts, team_rows
from handlers.tasks import service as tasks
from handlers.tasks.states import IllegalTransition, next_state
from storage.models import DECLINE_REASONS, Assignment, AssignmentMember, DrawRecord
from storage.models.tasks import Task

REMIND = "dispatch.remind"
ESCALATE = "dispatch.escalate"

# Called in the accepting transaction (the results capability sends the result form from here).
on_accepted: list[Callable[[Context, Task, Assignment, AssignmentMember], None]] = []
# Called when a dispatched slot is withdrawn (redrawn): its record stops taking results.
on_withdrawn: list[Callable[[Context, Task, Assignment, str], None]] = []


def card_id(member: AssignmentMember) -> str:
    return f"dispatch-{member.assignment_id}-{member.inspector_id}"


def facts_for(
    ctx: Context, task: Task, assignments: list[Assignment], members: dict[int, list[AssignmentMember]]
) -> Facts:
    return load_facts(
        ctx.session,
        ctx.settings,
        task,
        [a.object_id for a in assignments],
        [m.inspector_id for group in members.values() for m in group],
    )


def _schedule(ctx: Context, task: Task, batch: str) -> None:
    ref = f"task:{task.id}"
    for kind, hours in (
        (REMIND, ctx.settings.dispatch_remind_hours),
        (ESCALATE, ctx.settings.dispatch_escalate_hours),
    ):
        ctx.schedule(kind, ref, ctx.now + timedelta(hours=hours), key=f"dispatch:{task.id}:{batch}:{kind}")


def send_members(
    ctx: Context,
    facts: Facts,
    slots: list[tuple[Assignment, list[AssignmentMember], list[AssignmentMember]]],
) -> tuple[dict[int, str], list[str]]:
    """Send dispatch cards to the targets of each (assignment, team, targets), all at once.

    Returns (行政行为码 by object, names of members without a chat account)."""
    object_ids = [assignment.object_id for assignment, _, _ in slots]
    codes_by_object = codes.ensure_many(
        ctx.session, task_id=facts.task.id, object_ids=object_ids, now=ctx.now
    )
    unreachable: list[str] = []
    cards: list[CardToSend] = []
    for assignment, team, targets in slots:
        code = codes_by_object[assignment.object_id]
        qr = codes.qr_url(ctx.settings, code)
        for member in targets:
            member.state = "pending"
            member.dispatched_at = ctx.now
            member.card_id = card_id(member)
        for member in targets:
            staff = facts.staff_of(member.inspector_id)
            if staff is None:
                unreachable.append(facts.name(member.inspector_id))
                continue
            view = dispatch_view(facts, ctx.settings, assignment, member, team, code, qr)
            cards.append(
                CardToSend(
                    "dispatch_card",
                    member.card_id or card_id(member),
                    staff,
                    dispatch_card(view),
                    audience=(staff,),
                    entity=("assignment_member", member.id),
                )
            )
    ctx.send_cards(cards)
    return codes_by_object, unreachable


def dispatch_assignments(
    ctx: Context, facts: Facts, assignments: list[Assignment], members: dict[int, list[AssignmentMember]]
) -> list[str]:
    """Send each slot's team their cards, then issue the objects' pre-notices, each in one batch."""
    slots = [(a, members[a.id], [m for m in members[a.id] if m.state == "drawn"]) for a in assignments]
    codes_by_object, unreachable = send_members(ctx, facts, slots)
    for assignment in assignments:
        assignment.state = "dispatched"
        assignment.dispatched_at = ctx.now
    issued = [(a, members[a.id], codes_by_object[a.object_id]) for a in assignments]
    notices.issue(ctx, facts, issued, tasks.today(ctx).isoformat())
    return unreachable


def dispatch_task(ctx: Context, task: Task, *, overcap_reason: str = "") -> int:
    """一键分发: approved -> dispatched; every drawn team member gets a 1:1 card. Returns cards sent."""
    tasks.require_lead_admin(ctx, task)
    assignments = active_assignments(ctx.session, task.id)
    if task.state == "approved" and not assignments:
        raise UserError(f"{task.number} 还没有抽取结果，请先抽取检查对象和检查人员。")
    current = list(
        ctx.session.execute(
            select(DrawRecord).where(DrawRecord.task_id == task.id, DrawRecord.state == "current")
        ).scalars()
    )
    drawn = {a.object_id for a in assignments}
    warned = [w for r in current for w in r.warnings if w["object"] in drawn]
    reason = overcap_reason.strip()
    if warned and not (reason or task.overcap_reason):
        raise UserError(
            f"有 {len({w['object'] for w in warned})} 家对象今年已达到实地检查次数上限，请填写继续检查的理由后再分发，或重新抽取该户。",
            fields={"overcap_reason": "请填写理由"},
        )
    before = tasks.snapshot(task)
    try:
        task.state = next_state(task.state, "dispatch")
    except IllegalTransition as exc:
        raise UserError(str(exc)) from None
    if warned and reason:
        task.overcap_reason = reason[:300]
    task.updated_at = ctx.now
    with paused_gc():  # a thousand cards and their documents: see bot/gcpause.py
        members = members_of(ctx.session, [a.id for a in assignments])
        facts = facts_for(ctx, task, assignments, members)
        unreachable = dispatch_assignments(ctx, facts, assignments, members)
    sent = sum(1 for group in members.values() for m in group if m.state == "pending") - len(unreachable)
    ctx.audit(
        "task.dispatch",
        "task",
        task.id,
        before=before,
        after=tasks.snapshot(task),
        detail={
            "assignments": [
                [a.id, a.object_id, [m.inspector_id for m in members[a.id]]] for a in assignments
            ],
            "overcap_reason": task.overcap_reason if warned else None,
            "unreachable": unreachable,
        },
    )
    _schedule(ctx, task, "all")
    if unreachable:
        _tell_lead(
            ctx,
            task,
            f"{task.number}：{'、'.join(unreachable)} 尚未绑定钉钉账号，派单卡片无法送达，请通知本人或联系管理员绑定。",
            key=f"dispatch:{task.id}:unreachable",
        )
    return sent


def _tell_lead(ctx: Context, task: Task, text: str, *, key: str) -> None:
    staff = tasks.staff_of(ctx, tasks.unit_admins(ctx.session, [task.lead_unit_id]))
    if staff:
        ctx.send_text(Users(tuple(staff)), text, key=key)


# -- answers ------------------------------------------------------------------------------------
def _load(ctx: Context, member_id: int) -> tuple[AssignmentMember, Assignment, Task]:
    member = ctx.session.get(AssignmentMember, member_id, with_for_update=True, populate_existing=True)
    if member is None:
        raise UserError("找不到这张派单。")
    assignment = ctx.session.get(Assignment, member.assignment_id)
    assert assignment is not None
    task = tasks.lock(ctx.session, assignment.task_id)
    return member, assignment, task


def accept(ctx: Context, member_id: int) -> CardResult:
    member, assignment, task = _load(ctx, member_id)
    if member.state == "accepted":
        return CardResult(
            update=dispatch_answered(status="已接受", note="您已接受本次检查。"),
            toast="您已接受，无需重复操作。",
        )
    if member.state != "pending" or assignment.state == "superseded":
        return CardResult(toast="这张派单已失效，不能再操作。", readonly=True)
    member.state = "accepted"
    member.answered_at = ctx.now
    ctx.audit(
        "dispatch.accept",
        "assignment_member",
        member.id,
        before={"state": "pending"},
        after={"state": "accepted"},
        detail={"task_id": task.id, "assignment_id": assignment.id, "inspector_id": member.inspector_id},
    )
    for hook in on_accepted:
        hook(ctx, task, assignment, member)
    refresh(ctx, task)  # the task card's progress and the draw card's 确认情况
    members = members_of(ctx.session, [assignment.id])[assignment.id]
    team = team_rows(facts_for(ctx, task, [assignment], {assignment.id: members}), members)
    _show_team(ctx, members, team, skip=member.id)  # teammates see who has accepted
    note = f"您已接受本次检查。请于 {assignment.planned_day.isoformat()} 按时到达，检查时出示执法证件和行政行为码。"
    return CardResult(update=dispatch_answered(status="已接受", note=note, team=team), toast="已接受。")


def _show_team(ctx: Context, members: list[AssignmentMember], team: list[TeamRow], *, skip: int) -> None:
    """The team table on every other live member's card (after an answer or a replacement)."""
    for mate in members:
        if mate.state in ("pending", "accepted") and mate.id != skip and mate.card_id:
            ctx.update_card(mate.card_id, team_update(team))


def decline(ctx: Context, member_id: int, reason: str, note: str) -> CardResult:
    member, assignment, task = _load(ctx, member_id)
    if member.state == "declined":
        return CardResult(toast="已记录您无法参加，无需重复操作。", readonly=True)
    if member.state == "accepted":
        raise UserError("您已接受本次检查。如情况有变，请联系牵头单位处理。")
    if member.state != "pending" or assignment.state == "superseded":
        return CardResult(toast="这张派单已失效，不能再操作。", readonly=True)
    if reason not in DECLINE_REASONS:
        raise UserError("请选择无法参加的原因：回避、请假或其他。", fields={"reason": "请选择原因"})
    note = note.strip()
    if reason == "other" and not note:
        raise UserError("选择「其他」时请写明原因。", fields={"decline_note": "请写明原因"})
    member.state = "declined"
    member.answered_at = ctx.now
    member.decline_reason = reason
    member.decline_note = note[:300] or None
    label = DECLINE_REASONS[reason]
    ctx.audit(
        "dispatch.decline",
        "assignment_member",
        member.id,
        before={"state": "pending"},
        after={"state": "declined"},
        detail={"task_id": task.id, "assignment_id": assignment.id, "reason": reason, "note": note},
    )
    replacement, problem = replace(ctx, task, assignment, member)
    refresh(ctx, task)  # the draw card shows the new team
    if replacement is not None:
        outcome = "已按规则从本单位补抽其他人员。"
    else:
        outcome = "本单位暂无符合条件的人员可以补抽，已告知牵头单位。"
        _tell_lead(ctx, task, problem, key=f"dispatch:{task.id}:m{member.id}:short")
    return CardResult(
        update=dispatch_answered(
            status="无法参加", note=f"已记录：{label}{('，' + note) if note else ''}。{outcome}"
        ),
        toast=f"已记录无法参加（{label}）。",
        readonly=True,
    )


def replace(
    ctx: Context, task: Task, assignment: Assignment, decliner: AssignmentMember
) -> tuple[AssignmentMember | None, str]:
    """Draw a replacement from the decliner's unit under the same rules (logged as a draw record)."""
    members = members_of(ctx.session, [assignment.id])[assignment.id]
    unit = decliner.unit_id
    day = assignment.planned_day.isoformat()
    keep = sorted(m.inspector_id for m in members if m.state in LIVE)
    exclude = sorted(m.inspector_id for m in members if m.state not in LIVE)
    facts = facts_for(ctx, task, [assignment], {assignment.id: members})
    obj = facts.objects[assignment.object_id]
    params = {
        "object": obj.id,
        "jur": obj.jurisdiction_unit_id,
        "day": day,
        "unit": unit,
        "tags": unit_tags(task, [unit])[str(unit)],
        "mode": task.draw_mode,
        "load_cap": ctx.settings.draw_load_cap_per_day,
        "team": keep,
        "exclude": exclude,
        "slot": assignment.slot,
    }
    pool = inspector_pool(ctx.session, [unit], task.window_start, task.window_end)
    ids = {row[0] for row in pool}
    snapshot = {
        "algorithm": algorithm.ALGORITHM_VERSION,
        "kind": "replacement",
        "task": {"id": task.id, "number": task.number},
        "drawn_on": tasks.today(ctx).isoformat(),
        "params": params,
        "inspectors": pool,
        "conflicts": conflicts(ctx.session, [obj.id], ids),
        "load": loads(ctx.session, [unit], [day], inspector_ids=ids),
    }
    seed = new_seed()
    try:
        result = algorithm.draw(snapshot, seed)
    except algorithm.Shortage as exc:
        message = explain(ctx, task, exc, facts.objects, params, action="补抽")
        ctx.audit(
            "draw.replacement_failed",
            "task",
            task.id,
            detail={"assignment_id": assignment.id, "message": message},
        )
        return None, message
    reason = f"{facts.name(decliner.inspector_id)}无法参加（{DECLINE_REASONS.get(decliner.decline_reason or '', '其他')}）"
    prepared = Prepared(snapshot, result, facts.objects, 1, len(pool))
    row, packing = record(
        ctx,
        task,
        prepared,
        kind="replacement",
        seed=seed,
        reason=reason,
        amends_id=assignment.draw_id,
        assignment_id=assignment.id,
        slot=assignment.slot,
    )
    seal(ctx, row, packing)
    newcomer = AssignmentMember(
        assignment_id=assignment.id,
        inspector_id=result["inspector"],
        unit_id=unit,
        position=max(m.position for m in members) + 1,
        state="drawn",
        draw_id=row.id,
        replaces_id=decliner.id,
    )
    ctx.session.add(newcomer)
    ctx.session.flush()
    members.append(newcomer)
    facts = facts_for(ctx, task, [assignment], {assignment.id: members})
    ctx.audit(
        "draw.replacement",
        "task",
        task.id,
        detail={
            "draw_id": row.id,
            "seed": seed,
            "pool_hash": row.pool_hash,
            "replaces": decliner.inspector_id,
            "inspector": newcomer.inspector_id,
        },
    )
    if assignment.state == "dispatched":
        sent_codes, unreachable = send_members(ctx, facts, [(assignment, members, [newcomer])])
        code = sent_codes[assignment.object_id]
        _schedule(ctx, task, f"m{newcomer.id}")
        _show_team(ctx, members, team_rows(facts, members), skip=newcomer.id)
        notices.withdraw(ctx, assignment.id, "检查人员变更，重新制发")
        notices.issue(ctx, facts, [(assignment, members, code)], tasks.today(ctx).isoformat())
        if unreachable:
            _tell_lead(
                ctx,
                task,
                f"{task.number}：补抽的{'、'.join(unreachable)}尚未绑定钉钉账号，派单无法送达。",
                key=f"dispatch:{task.id}:m{newcomer.id}:unreachable",
            )
    return newcomer, ""


def withdraw_assignment(ctx: Context, task: Task, assignment: Assignment, reason: str) -> None:
    """A slot redrawn after dispatch: its team's cards turn read-only, its notice is voided."""
    for member in members_of(ctx.session, [assignment.id])[assignment.id]:
        if member.state in ("pending", "accepted") and member.card_id:
            ctx.update_card(
                member.card_id,
                dispatch_answered(
                    status="已撤回", note=f"本户已重新抽取（{reason}），本派单作废，无需前往。"
                ),
                readonly=True,
            )
        if member.state in LIVE:
            member.state = "withdrawn"
    notices.withdraw(ctx, assignment.id, f"重新抽取：{reason}")
    for hook in on_withdrawn:
        hook(ctx, task, assignment, reason)


def dispatch_new_assignment(ctx: Context, task: Task, assignment: Assignment) -> None:
    members = members_of(ctx.session, [assignment.id])
    facts = facts_for(ctx, task, [assignment], members)
    unreachable = dispatch_assignments(ctx, facts, [assignment], members)
    _schedule(ctx, task, f"a{assignment.id}")
    if unreachable:
        _tell_lead(
            ctx,
            task,
            f"{task.number}：{'、'.join(unreachable)} 尚未绑定钉钉账号，派单无法送达。",
            key=f"dispatch:{task.id}:a{assignment.id}:unreachable",
        )


# -- reminders ----------------------------------------------------------------------------------
def _pending(ctx: Context, task: Task, older_than_hours: float) -> list[tuple[AssignmentMember, Assignment]]:
    cutoff = ctx.now - timedelta(hours=older_than_hours) + timedelta(seconds=1)
    rows = ctx.session.execute(
        select(AssignmentMember, Assignment)
        .join(Assignment, Assignment.id == AssignmentMember.assignment_id)
        .where(
            Assignment.task_id == task.id,
            Assignment.state == "dispatched",
            AssignmentMember.state == "pending",
            AssignmentMember.dispatched_at <= cutoff,
        )
        .order_by(AssignmentMember.id)
    )
    return [(member, assignment) for member, assignment in rows]


def remind(ctx: Context, task: Task) -> int:
    """Remind every team member who has not answered within ``dispatch_remind_hours``."""
    waiting = [
        (m, a) for m, a in _pending(ctx, task, ctx.settings.dispatch_remind_hours) if m.reminded_at is None
    ]
    if not waiting:
        return 0
    facts = facts_for(ctx, task, [a for _, a in waiting], {a.id: [m] for m, a in waiting})
    for member, assignment in waiting:
        member.reminded_at = ctx.now
        staff = facts.staff_of(member.inspector_id)
        if staff:
            ctx.send_text(
                Users.of(staff),
                f"【派单提醒】您有一张检查派单尚未确认：{task.number}，检查对象「{facts.objects[assignment.object_id].name}」，"
                f"计划 {assignment.planned_day.isoformat()} 检查。请在派单卡片上选择「接受」或「无法参加」。",
                key=f"dispatch:remind:{member.id}",
            )
    return len(waiting)


def escalate(ctx: Context, task: Task) -> int:
    """Tell the lead unit who still has not answered after ``dispatch_escalate_hours``."""
    waiting = [
        (m, a) for m, a in _pending(ctx, task, ctx.settings.dispatch_escalate_hours) if m.escalated_at is None
    ]
    if not waiting:
        return 0
    facts = facts_for(ctx, task, [a for _, a in waiting], {a.id: [m] for m, a in waiting})
    lines = []
    for member, assignment in waiting:
        member.escalated_at = ctx.now
        lines.append(
            f"{facts.name(member.inspector_id)}（第 {assignment.slot} 户「{facts.objects[assignment.object_id].name}」）"
        )
    hours = f"{ctx.settings.dispatch_escalate_hours:g}"
    _tell_lead(
        ctx,
        task,
        f"【派单未确认】{task.number}：以下人员收到派单已超过 {hours} 小时仍未确认：{'；'.join(lines)}。"
        "请联系本人；如无法参加，可在抽取结果卡片上重新抽取该户。",
        key=f"dispatch:escalate:{task.id}:{min(m.id for m, _ in waiting)}",
    )
    ctx.audit("dispatch.overdue", "task", task.id, detail={"members": [m.id for m, _ in waiting]})
    return len(waiting)
