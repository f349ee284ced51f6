"""监管一件事 themes: status and the claim rule (domain.md §11.4, BR-30).

    open -> claimed(unit, deadline) -> in_progress (>= 1 task) -> fulfilled (>= min joint inspections)
    claimed --deadline passed, not fulfilled--> overdue -> (fulfilled late | released)

Pure functions over a theme row and a count; the chat command and the deadline tick apply them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.models.directory import Theme

STATUS_LABELS = {
    "open": "待认领",
    "claimed": "已认领",
    "in_progress": "实施中",
    "fulfilled": "已完成",
    "overdue": "已逾期",
    "released": "已释放",
}
LEVEL_LABELS = {"provincial": "省级", "local": "本地"}
CLAIMED_STATES = ("claimed", "in_progress", "overdue")
CLAIMABLE_STATES = ("open", "released")


def effective_status(theme: Theme, done: int, today: date) -> str:
    """The status to show today: stored transitions plus what the count and the date imply."""
    if theme.status in CLAIMABLE_STATES or theme.claimed_by_unit_id is None:
        return theme.status if theme.status in CLAIMABLE_STATES else "open"
    if done >= theme.min_joint_inspections:
        return "fulfilled"
    if theme.deadline is not None and today > theme.deadline:
        return "overdue"
    return theme.status


def is_overdue(theme: Theme, done: int, today: date) -> bool:
    return effective_status(theme, done, today) == "overdue"


@dataclass(frozen=True)
class ClaimDecision:
    """Either a deadline to claim with, or the reason (Chinese) why the claim is refused."""

    deadline: date | None = None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def decide_claim(
    theme: Theme, *, unit_id: int, unit_name: str, claimant_name: str | None, asked: date | None, today: date
) -> ClaimDecision:
    """Whether ``unit_id`` may claim ``theme`` now, and with which deadline.

    A theme is claimed by one unit at a time. The deadline is the one asked for, or else the
    theme's own; it must not be in the past, and must not run past a deadline the theme already
    carries (the province sets those).
    """
    if not theme.active:
        return ClaimDecision(refusal=f"「{theme.name}」已停用，不能认领。")
    if theme.status == "fulfilled":
        return ClaimDecision(refusal=f"「{theme.name}」已完成，无需再认领。")
    if theme.status in CLAIMED_STATES and theme.claimed_by_unit_id is not None:
        until = f"，完成期限 {theme.deadline.isoformat()}" if theme.deadline else ""
        if theme.claimed_by_unit_id == unit_id:
            return ClaimDecision(refusal=f"{unit_name}已认领「{theme.name}」{until}，无需重复认领。")
        return ClaimDecision(
            refusal=f"「{theme.name}」已由{claimant_name or '其他单位'}认领{until}，不能重复认领。"
            "如需调整，请联系局领导。"
        )
    preset = theme.deadline if theme.deadline is not None and theme.deadline >= today else None
    deadline = asked or preset
    if deadline is None:
        return ClaimDecision(
            refusal=f"「{theme.name}」没有预设完成期限，请写明期限，例如：认领 {short_name(theme.name)} "
            f"{date(today.year, 12, 31).isoformat()}"
        )
    if deadline < today:
        return ClaimDecision(refusal=f"完成期限 {deadline.isoformat()} 已过，请重新填写。")
    if asked is not None and preset is not None and asked > preset:
        return ClaimDecision(refusal=f"完成期限不能晚于主题规定的 {preset.isoformat()}，请重新填写。")
    return ClaimDecision(deadline=deadline)


def short_name(name: str) -> str:
    """人行道监管一件事 -> 人行道 (what people type)."""
    return name.removesuffix("监管一件事").removesuffix("一件事") or name
