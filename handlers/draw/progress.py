"""What the task module asks of this capability through its hooks: progress rows for the group's
task card, and the count of candidate objects already at the yearly on-site cap (BR-11)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from handlers.draw.pool import in_pool, onsite_visits, pool_filter
from storage.models import Assignment, AssignmentMember
from storage.models.tasks import Task


def dispatch_progress(task: Task) -> list[tuple[str, str]]:
    """("已接受", "3/6"), ("无法参加", "1"), ("待确认", "2") once dispatched; the draw before."""
    session = object_session(task)
    if session is None or task.id is None:
        return []
    rows = session.execute(
        select(AssignmentMember.state, Assignment.id)
        .join(Assignment, Assignment.id == AssignmentMember.assignment_id)
        .where(Assignment.task_id == task.id, Assignment.state != "superseded")
    ).all()
    if not rows:
        return []
    states = Counter(state for state, _ in rows)
    slots = len({assignment for _, assignment in rows})
    if task.state == "approved":
        return [("抽取结果", f"已抽取 {slots} 户，待牵头单位一键分发")]
    answered = states["accepted"] + states["pending"]
    return [
        ("已接受", f"{states['accepted']}/{answered}"),
        ("无法参加", str(states["declined"])),
        ("待确认", str(states["pending"])),
    ]


def objects_at_cap(session: Session, task: Task, cap: int) -> int:
    """Candidate objects of ``task`` its units already inspected on site ``cap`` times this year."""
    units = {task.lead_unit_id} | {u.unit_id for u in task.units if u.state != "dropped"}
    visits = onsite_visits(session, year=task.window_start.year, object_ids=None, skip_task_id=task.id)
    over = {object_id for (object_id, unit), count in visits.items() if unit in units and count >= cap}
    if not over:
        return 0
    return len(in_pool(session, pool_filter(task, task.window_start), over))
