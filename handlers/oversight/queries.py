"""SQL over ``oversight_fact``: the raw counts the figures are made of, one query per question.

Every query reads one kind family through the ``(kind, at, unit_id)`` or ``(kind, subject)``
index and groups in the database, so the cost follows the facts of the period, not the table.
The meaning of each count is in docs/oversight.md; ``metrics`` turns them into figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from handlers.oversight.facts import NOTICE_DUE
from handlers.oversight.periods import Period
from storage.models.oversight import OversightFact as F

PLAIN = (
    "task.create",
    "task.dispatch",
    "task.review",
    "dispatch.accept",
    "record.submit",
    "publication.published",
)
# A rectification may meet these more than once (re-checks): counted once per rectification.
DISTINCT = ("rectification.overdue", "rectification.not_corrected", "rectification.closed")
COUNTED = PLAIN + DISTINCT
OVERDUE_ENDS = ("rectification.reinspected", "rectification.closed", "rectification.cancel")
TIMELINE = (
    "task.create",
    "task.dispatch",
    "task.review",
    "record.submit",
    "rectification.order",
    "rectification.closed",
    "rectification.overdue",
    "publication.published",
)

Unit = int | None


@dataclass(frozen=True)
class Group:
    """One (kind, unit, tag) group of facts in a period."""

    kind: str
    unit_id: Unit
    tag: str | None
    count: int
    subjects: int  # distinct subjects
    flagged: int  # facts with flag true
    value_sum: float
    valued: int  # facts with a value


def counted(session: Session, period: Period) -> list[Group]:
    """Facts of the counted kinds in the period, grouped by kind, unit and tag (two queries: a
    distinct count only where a subject can repeat)."""
    in_period = (F.at >= period.start, F.at < period.end)
    flagged = func.sum(case((F.flag.is_(True), 1), else_=0))
    plain = session.execute(
        select(
            F.kind,
            F.unit_id,
            F.tag,
            func.count(),
            flagged,
            func.coalesce(func.sum(F.value), 0.0),
            func.count(F.value),
        )
        .where(F.kind.in_(PLAIN), *in_period)
        .group_by(F.kind, F.unit_id, F.tag)
    )
    groups = [
        Group(r[0], r[1], r[2], int(r[3]), int(r[3]), int(r[4] or 0), float(r[5] or 0), int(r[6]))
        for r in plain
    ]
    distinct = session.execute(
        select(F.kind, F.unit_id, F.tag, func.count(F.subject.distinct()))
        .where(F.kind.in_(DISTINCT), *in_period)
        .group_by(F.kind, F.unit_id, F.tag)
    )
    groups += [Group(r[0], r[1], r[2], int(r[3]), int(r[3]), 0, 0.0, 0) for r in distinct]
    return groups


def notices(session: Session, period: Period) -> dict[tuple[Unit, str], tuple[int, int]]:
    """Objects dispatched in the period, by (lead unit, send|exempt): (objects, notice served by
    the period's end)."""
    served = aliased(F)
    is_served = exists().where(
        served.kind == "prenotice.served", served.subject == F.subject, served.at < period.end
    )
    rows = session.execute(
        select(F.unit_id, F.tag, func.count(), func.sum(case((is_served, 1), else_=0)))
        .where(F.kind == NOTICE_DUE, F.at >= period.start, F.at < period.end)
        .group_by(F.unit_id, F.tag)
    )
    return {(r[0], r[1] or "send"): (int(r[2]), int(r[3] or 0)) for r in rows}


def rectifications_due(session: Session, days: tuple[date, date] | None, as_of: datetime) -> dict[Unit, int]:
    """Orders with a deadline (限期) whose deadline day ran out in the period, not cancelled."""
    if days is None:
        return {}
    cancel = aliased(F)
    cancelled = exists().where(
        cancel.kind == "rectification.cancel", cancel.subject == F.subject, cancel.at < as_of
    )
    rows = session.execute(
        select(F.unit_id, func.count())
        .where(
            F.kind == "rectification.order",
            F.tag == "deadline",
            F.due >= days[0],
            F.due <= days[1],
            F.at < as_of,
            ~cancelled,
        )
        .group_by(F.unit_id)
    )
    return {r[0]: int(r[1]) for r in rows}


@dataclass(frozen=True)
class OpenOverdue:
    subject: str
    unit_id: Unit
    task_id: int | None
    since: datetime


def overdue_rectifications(session: Session, as_of: datetime) -> list[OpenOverdue]:
    """Rectifications whose re-check went overdue (our side) and that, as of ``as_of``, have been
    neither re-inspected, closed nor cancelled since."""
    end = aliased(F)
    ended = exists().where(
        end.kind.in_(OVERDUE_ENDS), end.subject == F.subject, end.at >= F.at, end.at < as_of
    )
    rows = session.execute(
        select(F.subject, F.unit_id, F.task_id, F.at)
        .where(F.kind == "rectification.overdue", F.at < as_of, ~ended)
        .order_by(F.at, F.id)
    )
    seen: dict[str, OpenOverdue] = {}
    for subject, unit_id, task_id, at in rows:
        seen.setdefault(subject, OpenOverdue(subject, unit_id, task_id, at))
    return list(seen.values())


def overdue_publications(session: Session, today: date, as_of: datetime) -> dict[Unit, tuple[int, date]]:
    """Results whose publication due date has passed with nothing published by ``as_of``:
    unit -> (how many, the oldest due date)."""
    published = aliased(F)
    done = exists().where(
        published.kind == "publication.published",
        published.subject == F.subject,
        published.at < as_of,
    )
    rows = session.execute(
        select(F.unit_id, func.count(F.subject.distinct()), func.min(F.due))
        .where(F.kind == "publication.scheduled", F.due < today, F.at < as_of, ~done)
        .group_by(F.unit_id)
    )
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def theme_reviews(session: Session, as_of: datetime) -> dict[int, list[tuple[date, bool]]]:
    """Tasks of a theme finished (all records reviewed) by ``as_of``: theme -> [(day, joint)]."""
    rows = session.execute(
        select(F.theme_id, F.day, F.flag)
        .where(F.kind == "task.review", F.tag == "lead", F.theme_id.is_not(None), F.at < as_of)
        .order_by(F.at, F.id)
    )
    found: dict[int, list[tuple[date, bool]]] = defaultdict(list)
    for theme_id, day, flag in rows:
        found[int(theme_id)].append((day, bool(flag)))
    return dict(found)


def timeline(session: Session, period: Period) -> dict[date, dict[str, int]]:
    """Per local day of the period, how many facts of each timeline kind (lead-unit facts only,
    so a joint task counts once)."""
    rows = session.execute(
        select(F.day, F.kind, func.count())
        .where(
            F.kind.in_(TIMELINE),
            F.at >= period.start,
            F.at < period.end,
            or_(F.tag.is_(None), F.tag != "co"),
        )
        .group_by(F.day, F.kind)
    )
    days: dict[date, dict[str, int]] = defaultdict(dict)
    for day, kind, count in rows:
        days[day][kind] = int(count)
    return dict(days)


def task_events(
    session: Session, period: Period, limit: int = 60
) -> list[tuple[datetime, str, int | None, Unit]]:
    """The newest task-level events of the period (created, dispatched, finished), newest first."""
    rows = session.execute(
        select(F.at, F.kind, F.task_id, F.unit_id)
        .where(
            F.kind.in_(("task.create", "task.dispatch", "task.review")),
            F.tag == "lead",
            F.at >= period.start,
            F.at < period.end,
        )
        .order_by(F.at.desc(), F.id.desc())
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def active_units(session: Session) -> list[tuple[int, str, str]]:
    """Units a bulletin lists: active offices and squads (id, name, kind)."""
    from storage.models import Unit as UnitRow

    rows = session.execute(
        select(UnitRow.id, UnitRow.name, UnitRow.kind).where(UnitRow.active.is_(True)).order_by(UnitRow.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def names_of_units(session: Session, ids: set[int]) -> dict[int, str]:
    from storage.models import Unit as UnitRow

    if not ids:
        return {}
    rows = session.execute(select(UnitRow.id, UnitRow.name).where(UnitRow.id.in_(sorted(ids))))
    return {r[0]: r[1] for r in rows}
