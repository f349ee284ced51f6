"""What a bulletin counts, derived from audit events. Pure: events and lookups in, fact rows out.

Each tracked audit action becomes one or a few ``oversight_fact`` rows (docs/oversight.md lists
them). The figures are then counts over these rows, so they come from the event log and from
nothing typed in. Where an event does not name the unit or task it concerns, a ``Lookup`` answers
from the entity's identity (a record's task, a task's lead unit, an inspector's unit): attributes
that never change once the entity exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

# Events of the follow-up capability (issue 7) that carry unit_id and task_id in their detail.
RECTIFICATION_FOLLOWUP = (
    "rectification.served",
    "rectification.due_soon",
    "rectification.awaiting_reinspection",
    "rectification.reinspected",
    "rectification.overdue",
    "rectification.not_corrected",
    "rectification.escalated",
    "rectification.closed",
)
PUBLICATION = ("publication.scheduled", "publication.published")
TRACKED = (
    "task.create",
    "task.dispatch",
    "task.review",
    "dispatch.accept",
    "record.submit",
    "prenotice.served",
    "rectification.order",
    "rectification.cancel",
    *RECTIFICATION_FOLLOWUP,
    *PUBLICATION,
)
NOTICE_DUE = "notice.due"  # synthetic kind: one per object dispatched (from task.dispatch)


@dataclass(frozen=True)
class Event:
    """The parts of an audit event the projection reads."""

    id: int
    at: datetime
    action: str
    entity_type: str
    entity_id: str
    before: Any = None
    after: Any = None
    detail: Any = None

    @classmethod
    def from_body(cls, audit_id: int, at: datetime, body: str) -> Event:
        data = json.loads(body)
        return cls(
            id=audit_id,
            at=at,
            action=data["action"],
            entity_type=data["entity_type"],
            entity_id=str(data["entity_id"]),
            before=data.get("before"),
            after=data.get("after"),
            detail=data.get("detail"),
        )


@dataclass(frozen=True)
class TaskInfo:
    lead_unit_id: int
    window_end: date | None


@dataclass(frozen=True)
class MemberInfo:
    unit_id: int | None
    dispatched_at: datetime | None


class Lookup(Protocol):
    """Identity facts about entities an event names (see ``capture.RowLookup``)."""

    def task(self, task_id: int) -> TaskInfo | None: ...
    def record_task(self, record_id: int) -> int | None: ...
    def member(self, member_id: int) -> MemberInfo | None: ...
    def notice(self, notice_id: int) -> tuple[int, int] | None: ...  # (task id, object id)
    def rectification(self, rect_id: int) -> tuple[int, int | None] | None: ...  # (task, responsible unit)


@dataclass(frozen=True)
class Fact:
    audit_id: int
    at: datetime
    day: date
    kind: str
    unit_id: int | None = None
    task_id: int | None = None
    theme_id: int | None = None
    subject: str | None = None
    due: date | None = None
    tag: str | None = None
    flag: bool | None = None
    value: float | None = None

    def row(self) -> dict[str, Any]:
        return {
            "audit_id": self.audit_id,
            "at": self.at,
            "day": self.day,
            "kind": self.kind,
            "unit_id": self.unit_id,
            "task_id": self.task_id,
            "theme_id": self.theme_id,
            "subject": self.subject,
            "due": self.due,
            "tag": self.tag,
            "flag": self.flag,
            "value": self.value,
        }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _agreed_units(snapshot: Any) -> list[int]:
    """Co-units that agreed, from a task snapshot's ``units`` ({unit id: state})."""
    units = (snapshot or {}).get("units") or {}
    return sorted(u for key, state in units.items() if state == "agreed" and (u := _int(key)) is not None)


def derive(event: Event, lookup: Lookup, tz: str) -> list[Fact]:
    """The facts of one audit event (an empty list for actions the bulletin does not count)."""
    day = event.at.astimezone(ZoneInfo(tz)).date()
    handler = _HANDLERS.get(event.action)
    if handler is None:
        return []
    return handler(event, lookup, day)


def _base(event: Event, day: date, kind: str | None = None, **values: Any) -> Fact:
    return Fact(audit_id=event.id, at=event.at, day=day, kind=kind or event.action, **values)


def _task_create(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    task_id = _int(event.entity_id)
    info = lookup.task(task_id) if task_id is not None else None
    theme = _int((event.after or {}).get("theme_id"))
    return [
        _base(
            event,
            day,
            unit_id=info.lead_unit_id if info else None,
            task_id=task_id,
            theme_id=theme,
            subject=f"task:{task_id}",
            tag="lead",
        )
    ]


def _task_units(event: Event, lookup: Lookup, day: date, *, due: date | None) -> list[Fact]:
    """task.dispatch / task.review: one fact for the lead unit, one per agreed co-unit."""
    task_id = _int(event.entity_id)
    info = lookup.task(task_id) if task_id is not None else None
    after = event.after or {}
    co_units = _agreed_units(after)
    units = 1 + len(co_units)
    theme = _int(after.get("theme_id"))
    common = {"task_id": task_id, "theme_id": theme, "subject": f"task:{task_id}", "value": float(units)}
    facts = [
        _base(
            event,
            day,
            unit_id=info.lead_unit_id if info else None,
            tag="lead",
            flag=units >= 2,
            due=due,
            **common,
        )
    ]
    lead = info.lead_unit_id if info else None
    facts += [_base(event, day, unit_id=u, tag="co", flag=True, **common) for u in co_units if u != lead]
    return facts


def _task_dispatch(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    after = event.after or {}
    facts = _task_units(event, lookup, day, due=_date(after.get("window_end")))
    lead_fact = facts[0]
    mode = "exempt" if after.get("prenotice") == "exempt" else "send"
    for entry in (event.detail or {}).get("assignments") or []:
        object_id = _int(entry[1]) if isinstance(entry, list | tuple) and len(entry) > 1 else None
        if object_id is None:
            continue
        facts.append(
            _base(
                event,
                day,
                NOTICE_DUE,
                unit_id=lead_fact.unit_id,
                task_id=lead_fact.task_id,
                subject=f"object:{lead_fact.task_id}:{object_id}",
                tag=mode,
            )
        )
    return facts


def _task_review(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    return _task_units(event, lookup, day, due=None)


def _dispatch_accept(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    member_id = _int(event.entity_id)
    info = lookup.member(member_id) if member_id is not None else None
    hours = None
    if info is not None and info.dispatched_at is not None:
        hours = max(0.0, (event.at - info.dispatched_at).total_seconds() / 3600)
    return [
        _base(
            event,
            day,
            unit_id=info.unit_id if info else None,
            task_id=_int((event.detail or {}).get("task_id")),
            subject=f"member:{member_id}",
            value=hours,
        )
    ]


def _record_submit(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    record_id = _int(event.entity_id)
    task_id = lookup.record_task(record_id) if record_id is not None else None
    info = lookup.task(task_id) if task_id is not None else None
    window_end = info.window_end if info else None
    return [
        _base(
            event,
            day,
            unit_id=info.lead_unit_id if info else None,
            task_id=task_id,
            subject=f"record:{record_id}",
            due=window_end,
            flag=None if window_end is None else day <= window_end,
        )
    ]


def _prenotice_served(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    notice_id = _int(event.entity_id)
    found = lookup.notice(notice_id) if notice_id is not None else None
    if found is None:
        return []
    task_id, object_id = found
    info = lookup.task(task_id)
    return [
        _base(
            event,
            day,
            unit_id=info.lead_unit_id if info else None,
            task_id=task_id,
            subject=f"object:{task_id}:{object_id}",
        )
    ]


def _rectification_own(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    """rectification.order / .cancel (results capability): the unit is the rectification's
    responsible unit (set by the follow-up capability), else the task's lead unit, in whose name
    the order was issued."""
    rect_id = _int(event.entity_id)
    found = lookup.rectification(rect_id) if rect_id is not None else None
    task_id, unit_id = found if found is not None else (None, None)
    if unit_id is None and task_id is not None:
        info = lookup.task(task_id)
        unit_id = info.lead_unit_id if info else None
    after = event.after or {}
    ordered = event.action == "rectification.order"
    return [
        _base(
            event,
            day,
            unit_id=unit_id,
            task_id=task_id,
            subject=f"rect:{rect_id}",
            due=_date(after.get("deadline")) if ordered else None,
            tag=str(after.get("mode"))[:24] if ordered else None,
        )
    ]


FOLLOWUP_TAGS = {
    "rectification.reinspected": "outcome",
    "rectification.escalated": "next_step",
    "rectification.closed": "how",
    "rectification.served": "channel",
}


def _rectification_followup(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    detail = event.detail or {}
    rect_id = _int(event.entity_id)
    task_id = _int(detail.get("task_id"))
    unit_id = _int(detail.get("unit_id"))
    found = (
        lookup.rectification(rect_id)
        if rect_id is not None and (task_id is None or unit_id is None)
        else None
    )
    if found is not None:
        task_id = task_id if task_id is not None else found[0]
        unit_id = unit_id if unit_id is not None else found[1]
    if unit_id is None and task_id is not None:
        info = lookup.task(task_id)
        unit_id = info.lead_unit_id if info else None
    tag_key = FOLLOWUP_TAGS.get(event.action)
    tag = detail.get(tag_key) if tag_key else None
    return [
        _base(
            event,
            day,
            unit_id=unit_id,
            task_id=task_id,
            subject=f"rect:{rect_id}",
            tag=str(tag)[:24] if tag is not None else None,
        )
    ]


def _publication(event: Event, lookup: Lookup, day: date) -> list[Fact]:
    detail = event.detail or {}
    due = _date(detail.get("due_date"))
    published = event.action == "publication.published"
    channel = detail.get("channel")
    return [
        _base(
            event,
            day,
            unit_id=_int(detail.get("unit_id")),
            task_id=_int(detail.get("task_id")),
            subject=f"pub:{event.entity_id}",
            due=due,
            tag=str(channel)[:24] if published and channel is not None else None,
            flag=(day <= due) if published and due is not None else None,
        )
    ]


_HANDLERS = {
    "task.create": _task_create,
    "task.dispatch": _task_dispatch,
    "task.review": _task_review,
    "dispatch.accept": _dispatch_accept,
    "record.submit": _record_submit,
    "prenotice.served": _prenotice_served,
    "rectification.order": _rectification_own,
    "rectification.cancel": _rectification_own,
    **dict.fromkeys(RECTIFICATION_FOLLOWUP, _rectification_followup),
    **dict.fromkeys(PUBLICATION, _publication),
}
assert set(_HANDLERS) == set(TRACKED), "every tracked action has a handler"
