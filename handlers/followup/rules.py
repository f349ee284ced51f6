"""Pure rules of the follow-up: when each reminder falls due, and what a re-check needs.

Dates: the order's deadline is the end of its deadline day (Beijing time). Reminders fall due at
``reminder_hour`` on working days of the calendar:
- due soon: ``remind`` working days before the deadline day;
- deadline: the first working day after the deadline day (the deadline has passed; a re-check
  can only find the party failed once the day is over, and nobody is paged at midnight);
- overdue: the re-check SLA is ``sla`` working days after the deadline day; when the day after
  it starts without a re-check, our re-check is late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.calendar.workdays import Calendar, add_workdays
from storage.models.followup import NEXT_STEPS

MIN_REINSPECTORS = 2  # BR-23 (行政处罚法第四十二条): never a setting


@dataclass(frozen=True)
class Schedule:
    due_soon: date | None
    deadline: date
    overdue: date
    sla_day: date  # the last working day of the re-check window


def schedule(calendar: Calendar, deadline_day: date, today: date, *, remind: int, sla: int) -> Schedule:
    """The working days on which a rectification's reminders fall due.

    The due-soon reminder is skipped when its day is not after today (the order was given with
    less time than that: the team has just issued it and needs no reminder)."""
    soon = add_workdays(calendar, deadline_day, -remind) if remind > 0 else None
    if soon is not None and soon <= today:
        soon = None
    sla_day = add_workdays(calendar, deadline_day, sla)
    return Schedule(
        due_soon=soon,
        deadline=add_workdays(calendar, deadline_day, 1),
        overdue=add_workdays(calendar, sla_day, 1),
        sla_day=sla_day,
    )


@dataclass(frozen=True)
class Recheck:
    """A re-check as entered (already read from the card or form)."""

    outcome: str  # corrected | not_corrected
    inspectors: list[int]
    certified: dict[int, bool]  # inspector id -> certificate valid on the re-check day
    team: set[int]
    facts: str
    next_step: str
    reason: str
    target: str  # the department / police unit / list, as chosen


NEXT_STEP_TARGETS = {
    "referral": "抄告的主管部门",
    "transfer": "接收移送的公安机关",
    "credit": "建议列入的名单",
}


def check_recheck(values: Recheck) -> dict[str, str]:
    """Problems per field (empty = fine). BR-23: closing as corrected needs a re-check by at
    least two certified inspectors of the team; BR-25: not corrected needs a next step and a
    reason (and where it goes)."""
    errors: dict[str, str] = {}
    if values.outcome not in ("corrected", "not_corrected"):
        errors["outcome"] = "请选择复查结果：已整改或未整改。"
    people = list(dict.fromkeys(values.inspectors))
    strangers = [i for i in people if i not in values.team]
    if strangers:
        errors["inspectors"] = "复查人员须是本项复查的执法人员。"
    elif len(people) < MIN_REINSPECTORS:
        errors["inspectors"] = f"复查须由不少于{MIN_REINSPECTORS}名执法人员进行（行政处罚法第四十二条）。"
    elif not all(values.certified.get(i, False) for i in people):
        errors["inspectors"] = "复查人员的执法证须在复查当日有效。"
    if not values.facts.strip():
        errors["facts"] = "请写明复查看到的情况。"
    if values.outcome == "not_corrected":
        if values.next_step not in NEXT_STEPS:
            errors["next_step"] = "未整改的，须选择下一步：立案查处、抄告、移送或信用惩戒建议。"
        elif values.next_step in NEXT_STEP_TARGETS and not values.target:
            errors["target"] = f"请选择{NEXT_STEP_TARGETS[values.next_step]}。"
        if not values.reason.strip():
            errors["reason"] = "请写明采取下一步措施的理由。"
    return errors
