"""What the directory shows about inspections that happened: filled in by the tasks issue.

The chat commands (主题, 查对象) already ask these questions; until inspection tasks exist the
answers are "none". Keeping them here, with their final signatures, lets the later issue change
one function each instead of every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session


def joint_inspections_done(session: Session, theme_id: int) -> int:
    """Closed joint inspections (each with >= 2 units) counted for a theme (BR-30). None yet."""
    return 0


@dataclass(frozen=True)
class InspectionSummary:
    day: date
    task_title: str
    result: str


def recent_inspections(session: Session, object_id: int, limit: int = 3) -> list[InspectionSummary]:
    """The newest inspections of an object, newest first. None until tasks are recorded."""
    return []
