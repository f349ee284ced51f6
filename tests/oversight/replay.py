"""An independent recount of the bulletin's figures straight from ``audit_event`` bodies.

Written separately from ``handlers/oversight`` (no facts table, no SQL aggregates, no shared
code): it walks the chain in order, keeps what it needs in dicts and counts. Identity that
events do not carry (a task's lead unit, a record's or a notice's task, a member's unit, a
rectification's responsible unit) is read from the rows, as the production code does.
If the two disagree, one of them is wrong.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AssignmentMember, AuditEvent, InspectionRecord, PreNotice, Rectification
from storage.models.tasks import Task

TZ = ZoneInfo("Asia/Shanghai")


def _day(at: datetime) -> date:
    return at.astimezone(TZ).date()


class Replay:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.events = [
            (row.at, json.loads(row.body))
            for row in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]
        self.lead = dict(session.execute(select(Task.id, Task.lead_unit_id)).all())
        self.record_task_rows = dict(
            session.execute(select(InspectionRecord.id, InspectionRecord.task_id)).all()
        )
        self.members = {
            r[0]: (r[1], r[2])
            for r in session.execute(
                select(AssignmentMember.id, AssignmentMember.unit_id, AssignmentMember.dispatched_at)
            )
        }
        self.notices = {
            r[0]: (r[1], r[2])
            for r in session.execute(select(PreNotice.id, PreNotice.task_id, PreNotice.object_id))
        }
        self.rects = {
            r[0]: (r[1], r[2])
            for r in session.execute(select(Rectification.id, Rectification.task_id, Rectification.unit_id))
        }

    def counts(self, start: datetime, end: datetime) -> dict[Any, dict[str, float]]:
        """unit id (None = the bureau) -> the period's counts, named as in ``metrics.Counts``."""
        out: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        window_end: dict[int, date] = {}
        record_task: dict[int, int] = {}
        dispatched_at: dict[tuple[int, int], datetime] = {}
        served: set[tuple[int, int]] = set()
        cancelled: set[int] = set()
        orders: list[tuple[int, int | None, date, str, datetime]] = []
        due_objects: list[tuple[int | None, tuple[int, int], str]] = []
        distinct: dict[tuple[Any, str], set[int]] = defaultdict(set)

        def add(unit: Any, key: str, amount: float = 1) -> None:
            out[unit][key] += amount
            out[None][key] += amount

        for at, body in self.events:
            action, entity = body["action"], body["entity_id"]
            after, detail = body.get("after") or {}, body.get("detail") or {}
            inside = start <= at < end
            if action == "task.dispatch":
                window_end[int(entity)] = date.fromisoformat(after["window_end"])
                for entry in detail.get("assignments", []):
                    for inspector in entry[2]:
                        dispatched_at[(entry[0], inspector)] = at
            if action == "record.open":
                record_task[int(entity)] = after["task_id"]
            if action == "prenotice.served" and at < end:
                served.add(self.notices[int(entity)])
            if action == "rectification.cancel" and at < end:
                cancelled.add(int(entity))
            if action == "rectification.order" and at < end:
                task, unit = self.rects[int(entity)]
                orders.append(
                    (
                        int(entity),
                        unit or self.lead[task],
                        date.fromisoformat(after["deadline"]),
                        after["mode"],
                        at,
                    )
                )
            if not inside:
                continue
            if action in ("task.create", "task.dispatch", "task.review"):
                lead = self.lead[int(entity)]
                co = [int(u) for u, state in (after.get("units") or {}).items() if state == "agreed"]
                if action == "task.create":
                    add(lead, "tasks_started")
                    continue
                name = "dispatched" if action == "task.dispatch" else "finished"
                add(lead, f"tasks_{name}")
                if action == "task.dispatch":
                    add(lead, "tasks_joint", 1 if co else 0)
                    mode = "exempt" if after.get("prenotice") == "exempt" else "send"
                    for entry in detail.get("assignments", []):
                        due_objects.append((lead, (int(entity), entry[1]), mode))
                for unit in co:
                    out[unit]["tasks_joined" if name == "dispatched" else "tasks_finished_joined"] += 1
            elif action == "dispatch.accept":
                unit, member_dispatched = self.members[int(entity)]
                when = dispatched_at.get(
                    (detail.get("assignment_id"), detail.get("inspector_id")), member_dispatched
                )
                add(unit, "accepts")
                add(unit, "accept_hours", (at - when).total_seconds() / 3600)
            elif action == "record.submit":
                task = record_task.get(int(entity), self.record_task_rows[int(entity)])
                unit = self.lead[task]
                add(unit, "records_submitted")
                add(unit, "records_on_time", 1 if _day(at) <= window_end[task] else 0)
            elif action.startswith("rectification.") and "unit_id" in detail:
                kind = action.split(".", 1)[1]
                if kind in ("overdue", "not_corrected", "closed"):
                    distinct[(detail["unit_id"], kind)].add(int(entity))
                    distinct[(None, kind)].add(int(entity))
                    if kind == "closed":
                        distinct[(detail["unit_id"], f"closed_{detail.get('how')}")].add(int(entity))
                        distinct[(None, f"closed_{detail.get('how')}")].add(int(entity))
            elif action == "publication.published":
                add(detail["unit_id"], "pubs_published")
                add(
                    detail["unit_id"],
                    "pubs_on_time",
                    1 if _day(at) <= date.fromisoformat(detail["due_date"]) else 0,
                )
        for unit, subject, mode in due_objects:
            if mode == "exempt":
                add(unit, "notices_exempt")
            else:
                add(unit, "notices_due")
                add(unit, "notices_served", 1 if subject in served else 0)
        for rect, unit, deadline, mode, _ in orders:
            ends = datetime.combine(deadline, datetime.min.time(), tzinfo=TZ).timestamp() + 86400
            if mode == "deadline" and rect not in cancelled and start.timestamp() <= ends < end.timestamp():
                add(unit, "rect_due")
        for (unit, kind), rects in distinct.items():
            key = {
                "overdue": "rect_overdue",
                "not_corrected": "rect_not_corrected",
                "closed": "rect_closed",
            }.get(kind)
            key = key or {"closed_corrected": "rect_closed_corrected", "closed_on_spot": "rect_closed_on_spot",
                          "closed_escalated": "rect_closed_escalated"}.get(kind)  # fmt: skip
            if key:
                out[unit][key] = len(rects)
        return out

    def open_overdue_rectifications(self, end: datetime) -> set[int]:
        state: dict[int, bool] = {}
        for at, body in self.events:
            if at >= end or not body["action"].startswith("rectification."):
                continue
            kind = body["action"].split(".", 1)[1]
            if kind == "overdue":
                state[int(body["entity_id"])] = True
            elif kind in ("reinspected", "closed", "cancel"):
                state[int(body["entity_id"])] = False
        return {rect for rect, is_open in state.items() if is_open}

    def open_overdue_publications(self, end: datetime) -> int:
        scheduled: dict[str, date] = {}
        published: set[str] = set()
        for at, body in self.events:
            if at >= end:
                continue
            if body["action"] == "publication.scheduled":
                scheduled[body["entity_id"]] = date.fromisoformat(body["detail"]["due_date"])
            elif body["action"] == "publication.published":
                published.add(body["entity_id"])
        today = _day(end)
        return sum(1 for pub, due in scheduled.items() if due < today and pub not in published)
