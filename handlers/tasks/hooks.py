"""Extension points later capabilities plug into, so the task module needs no knowledge of them.

- ``on_approved``: called in the approving transaction (the draw-and-dispatch capability starts here).
- ``on_cancelled``: called when a task is cancelled.
- ``progress_providers``: add (label, value) rows to the group's task card (dispatch, results).
- ``onsite_counters``: count the task's candidate objects already at the yearly on-site cap (BR-11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models.tasks import Task

on_approved: list[Callable[[Any, Task], None]] = []
on_cancelled: list[Callable[[Any, Task], None]] = []
progress_providers: list[Callable[[Task], list[tuple[str, str]]]] = []
onsite_counters: list[Callable[[Session, Task, int], int]] = []


def progress(task: Task) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for provider in progress_providers:
        rows.extend(provider(task))
    return rows


def objects_over_onsite_cap(session: Session, task: Task, cap: int) -> int:
    return sum(counter(session, task, cap) for counter in onsite_counters)
