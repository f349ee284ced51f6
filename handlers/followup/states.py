"""The rectification (责令改正) state machine, domain.md §11.3, kept in one place and checked at
import. docs/followup.md draws its diagram from ``TRANSITIONS``.

    ordered --serve--> served
    ordered | served --due_soon--> due_soon                  (N working days before the deadline)
    ordered | served | due_soon --deadline--> awaiting_reinspection   (the deadline has passed)
    awaiting_reinspection --sla_passed--> overdue           (our re-check is late)
    any open state --reinspect--> reinspected               (a re-check by two inspectors)
    reinspected --corrected--> closed                       (published as result code E)
    reinspected --not_corrected--> not_corrected            (the party failed)
    not_corrected --escalate--> escalated                   (BR-25: case, referral, transfer, credit)
    escalated --close--> closed                             (the next step is done)
    ordered | served | due_soon | awaiting_reinspection | overdue --on_spot--> closed
    any open state --cancel--> cancelled                    (the order was withdrawn by an edit)

"overdue" is our failure (no re-check within the SLA); the party's failure is "not_corrected".
"""

from __future__ import annotations

STATES = (
    "ordered",
    "served",
    "due_soon",
    "awaiting_reinspection",
    "overdue",
    "reinspected",
    "not_corrected",
    "escalated",
    "closed",
    "cancelled",
)
STATE_LABELS = {
    "ordered": "已责令改正（待送达）",
    "served": "已送达，整改中",
    "due_soon": "即将到期",
    "awaiting_reinspection": "期限已到，待复查",
    "overdue": "复查逾期",
    "reinspected": "已复查",
    "not_corrected": "逾期未改正",
    "escalated": "已转入后续处置",
    "closed": "已办结",
    "cancelled": "已撤回",
}
# States in which the order is still running (before any re-check outcome).
RUNNING = ("ordered", "served", "due_soon", "awaiting_reinspection", "overdue")
OPEN = (*RUNNING, "reinspected", "not_corrected", "escalated")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("ordered", "serve"): "served",
    # Service recorded late changes nothing but the record of service.
    ("due_soon", "serve"): "due_soon",
    ("awaiting_reinspection", "serve"): "awaiting_reinspection",
    ("overdue", "serve"): "overdue",
    ("ordered", "due_soon"): "due_soon",
    ("served", "due_soon"): "due_soon",
    ("ordered", "deadline"): "awaiting_reinspection",
    ("served", "deadline"): "awaiting_reinspection",
    ("due_soon", "deadline"): "awaiting_reinspection",
    ("awaiting_reinspection", "sla_passed"): "overdue",
    **{(state, "reinspect"): "reinspected" for state in RUNNING},
    ("reinspected", "corrected"): "closed",
    ("reinspected", "not_corrected"): "not_corrected",
    ("not_corrected", "escalate"): "escalated",
    ("escalated", "close"): "closed",
    **{(state, "on_spot"): "closed" for state in RUNNING},
    **{(state, "cancel"): "cancelled" for state in OPEN},
}
EVENT_LABELS = {
    "serve": "登记送达",
    "due_soon": "到期提醒",
    "deadline": "期限届满",
    "sla_passed": "复查超时",
    "reinspect": "复查",
    "corrected": "确认已整改",
    "not_corrected": "确认未整改",
    "escalate": "转入后续处置",
    "close": "办结",
    "on_spot": "当场改正",
    "cancel": "撤回",
}
# The audit action each event is recorded as (the event contract in docs/followup.md).
ACTIONS = {
    "serve": "rectification.served",
    "due_soon": "rectification.due_soon",
    "deadline": "rectification.awaiting_reinspection",
    "sla_passed": "rectification.overdue",
    "reinspect": "rectification.reinspected",
    "corrected": "rectification.closed",
    "not_corrected": "rectification.not_corrected",
    "escalate": "rectification.escalated",
    "close": "rectification.closed",
    "on_spot": "rectification.closed",
    "cancel": "rectification.cancel",
}


class IllegalTransition(ValueError):
    """An event the rectification's current state does not allow. The message is for users."""


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        label = STATE_LABELS.get(state, state)
        raise IllegalTransition(
            f"这项整改当前为「{label}」，不能{EVENT_LABELS.get(event, event)}。"
        ) from None


def allows(state: str, event: str) -> bool:
    return (state, event) in TRANSITIONS


def _check() -> None:
    for (source, event), target in TRANSITIONS.items():
        if source not in STATES or target not in STATES:
            raise AssertionError(f"unknown state in {source} -{event}-> {target}")
        if event not in EVENT_LABELS or event not in ACTIONS:
            raise AssertionError(f"event {event} has no label or audit action")
    if set(STATE_LABELS) != set(STATES):
        raise AssertionError("every state needs a label")
    terminal = {s for s in STATES if not any(src == s for src, _ in TRANSITIONS)}
    if terminal != {"closed", "cancelled"}:
        raise AssertionError(f"unexpected terminal states {terminal}")


_check()
