"""The task state machine (domain.md §11.1), kept in one place and checked at import.

    draft --submit--> negotiating --confirm--> confirmed --approve--> approved --dispatch--> dispatched
      ^                  |  (request_change, version+1)     |  (return)
      +------------------+----------------------------------+
    dispatched --start--> in_progress --submit_results--> submitted --review--> reviewed --close--> closed
    submitted --reject_review--> in_progress
    {draft, negotiating, confirmed, approved} --cancel--> cancelled

The diagram in docs/tasks.md is drawn from ``TRANSITIONS``.
"""

from __future__ import annotations

STATES = (
    "draft",
    "negotiating",
    "confirmed",
    "approved",
    "dispatched",
    "in_progress",
    "submitted",
    "reviewed",
    "closed",
    "cancelled",
)

STATE_LABELS = {
    "draft": "草稿（待牵头单位修改）",
    "negotiating": "磋商中",
    "confirmed": "待审批",
    "approved": "已批准",
    "dispatched": "已分发",
    "in_progress": "检查中",
    "submitted": "结果已提交",
    "reviewed": "已审核",
    "closed": "已办结",
    "cancelled": "已撤销",
}

TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "negotiating",
    ("negotiating", "request_change"): "draft",
    ("negotiating", "confirm"): "confirmed",
    ("confirmed", "approve"): "approved",
    ("confirmed", "return"): "draft",
    ("approved", "dispatch"): "dispatched",
    ("dispatched", "start"): "in_progress",
    ("in_progress", "submit_results"): "submitted",
    ("dispatched", "submit_results"): "submitted",
    ("submitted", "reject_review"): "in_progress",
    ("submitted", "review"): "reviewed",
    ("reviewed", "close"): "closed",
    ("draft", "cancel"): "cancelled",
    ("negotiating", "cancel"): "cancelled",
    ("confirmed", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
}

EVENT_LABELS = {
    "submit": "发起磋商",
    "request_change": "提出修改",
    "confirm": "确认并报审批",
    "approve": "批准",
    "return": "退回",
    "dispatch": "分发",
    "start": "开始检查",
    "submit_results": "提交结果",
    "reject_review": "退回结果",
    "review": "审核通过",
    "close": "办结",
    "cancel": "撤销",
}

OPEN_STATES = frozenset(
    {"draft", "negotiating", "confirmed", "approved", "dispatched", "in_progress", "submitted", "reviewed"}
)


class IllegalTransition(ValueError):
    """An event that the task's current state does not allow. The message is for users."""


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        label = STATE_LABELS.get(state, state)
        action = EVENT_LABELS.get(event, event)
        raise IllegalTransition(f"任务当前状态为「{label}」，不能{action}。") from None


def allowed_events(state: str) -> list[str]:
    return [event for (source, event) in TRANSITIONS if source == state]


def _check() -> None:
    for (source, event), target in TRANSITIONS.items():
        if source not in STATES or target not in STATES:
            raise AssertionError(f"unknown state in transition {source} -{event}-> {target}")
        if event not in EVENT_LABELS:
            raise AssertionError(f"event {event} has no label")
    for state in STATES:
        if state not in STATE_LABELS:
            raise AssertionError(f"state {state} has no label")
    terminal = {s for s in STATES if not allowed_events(s)}
    if terminal != {"closed", "cancelled"}:
        raise AssertionError(f"unexpected terminal states {terminal}")


_check()
