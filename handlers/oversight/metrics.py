"""The bulletin's figures (docs/oversight.md defines each one), per unit and for the bureau.

``compute`` asks ``queries`` for raw counts over the facts of the event log and hands them to
``assemble``, a pure function that adds them up per unit, works out rates, theme standing
(BR-30) and the ranking. Nothing here is typed in: every number traces back to audit events, and
themes to the directory's version history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.oversight import queries
from handlers.oversight.periods import Period, deadline_days, local_date, year_start
from storage import history
from storage.models import Finding, InspectionObject, Rectification
from storage.models.tasks import Task

LISTED_KINDS = ("dept", "squad")  # units a bulletin always lists (others only when they have facts)
CLAIMED = ("claimed", "in_progress", "overdue", "fulfilled")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Counts:
    """What happened in one period for one unit (or the bureau). See docs/oversight.md."""

    tasks_started: int = 0  # tasks the unit posted (task.create, lead)
    tasks_dispatched: int = 0  # tasks the unit led that were dispatched
    tasks_joint: int = 0  # ... of them with two or more units
    tasks_finished: int = 0  # tasks the unit led whose records were all reviewed
    tasks_joined: int = 0  # other units' tasks the unit took part in, dispatched
    tasks_finished_joined: int = 0  # ... finished
    accepts: int = 0  # dispatch cards accepted by the unit's inspectors
    accepts_timed: int = 0
    accept_hours: float = 0.0  # summed hours from dispatch to acceptance
    records_submitted: int = 0  # first submissions of records of tasks the unit led
    records_on_time: int = 0  # ... on or before the task's last window day
    notices_due: int = 0  # objects dispatched that needed a pre-notice
    notices_served: int = 0  # ... whose notice was served by the period's end
    notices_exempt: int = 0  # objects dispatched under a recorded exemption
    rect_due: int = 0  # 限期 orders whose deadline ran out in the period (not cancelled)
    rect_overdue: int = 0  # rectifications whose re-check went overdue (our side)
    rect_not_corrected: int = 0  # re-checks that found the party had not corrected
    rect_closed: int = 0
    rect_closed_corrected: int = 0
    rect_closed_on_spot: int = 0
    rect_closed_escalated: int = 0
    pubs_published: int = 0  # results published
    pubs_on_time: int = 0  # ... on or before their due date (20 working days)

    def add(self, other: Counts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def tasks_taken_part(self) -> int:
        """Finished tasks the unit led or took part in (the ranking's first key)."""
        return self.tasks_finished + self.tasks_finished_joined

    @property
    def joint_rate(self) -> float | None:
        return _rate(self.tasks_joint, self.tasks_dispatched)

    @property
    def accept_hours_avg(self) -> float | None:
        return round(self.accept_hours / self.accepts_timed, 2) if self.accepts_timed else None

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.records_on_time, self.records_submitted)

    @property
    def prenotice_rate(self) -> float | None:
        return _rate(self.notices_served, self.notices_due)

    @property
    def publication_rate(self) -> float | None:
        return _rate(self.pubs_on_time, self.pubs_published)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["accept_hours"] = round(self.accept_hours, 4)
        data.update(
            tasks_taken_part=self.tasks_taken_part,
            joint_rate=self.joint_rate,
            accept_hours_avg=self.accept_hours_avg,
            on_time_rate=self.on_time_rate,
            prenotice_rate=self.prenotice_rate,
            publication_rate=self.publication_rate,
        )
        return data


@dataclass
class Standing:
    """Where a unit stands at the period's end (open items, themes)."""

    rect_overdue_open: int = 0
    pubs_overdue_open: int = 0
    themes_claimed: int = 0
    themes_fulfilled: int = 0
    themes_overdue: int = 0

    @property
    def overdue_items(self) -> int:
        return self.rect_overdue_open + self.pubs_overdue_open + self.themes_overdue

    def add(self, other: Standing) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "overdue_items": self.overdue_items}


@dataclass
class UnitFigures:
    id: int | None
    name: str
    period: Counts = field(default_factory=Counts)
    ytd: Counts = field(default_factory=Counts)
    standing: Standing = field(default_factory=Standing)
    rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "rank": self.rank,
            "period": self.period.to_json(),
            "ytd": self.ytd.to_json(),
            "standing": self.standing.to_json(),
        }


@dataclass(frozen=True)
class ThemeStatus:
    """BR-30: a claimed theme needs ``required`` joint inspections by its deadline."""

    id: int
    name: str
    unit_id: int | None
    unit: str
    deadline: date | None
    required: int
    done: int
    status: str  # fulfilled | fulfilled_late | open | overdue
    fulfilled_on: date | None
    days_left: int | None
    days_overdue: int | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        data["fulfilled_on"] = self.fulfilled_on.isoformat() if self.fulfilled_on else None
        return data


@dataclass(frozen=True)
class OverdueRectification:
    id: int
    unit_id: int | None
    unit: str
    task_id: int | None
    label: str
    deadline: date | None
    since: date
    days: int

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["deadline"] = self.deadline.isoformat() if self.deadline else None
        data["since"] = self.since.isoformat()
        return data


@dataclass(frozen=True)
class OverduePublications:
    unit_id: int | None
    unit: str
    count: int
    oldest_due: date | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["oldest_due"] = self.oldest_due.isoformat() if self.oldest_due else None
        return data


@dataclass
class Figures:
    as_of: datetime
    period: Period
    ytd_start: datetime
    today: date
    bureau: UnitFigures
    units: list[UnitFigures]
    themes: list[ThemeStatus]
    overdue_rectifications: list[OverdueRectification]
    overdue_publications: list[OverduePublications]

    def unit(self, unit_id: int) -> UnitFigures | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def to_json(self) -> dict[str, Any]:
        """What a bulletin stores as "what it showed" (and the page and export read)."""
        return {
            "version": 1,
            "as_of": _utc(self.as_of),
            "period": {"start": _utc(self.period.start), "end": _utc(self.period.end)},
            "ytd_start": _utc(self.ytd_start),
            "today": self.today.isoformat(),
            "bureau": self.bureau.to_json(),
            "units": [u.to_json() for u in self.units],
            "themes": [t.to_json() for t in self.themes],
            "overdue_rectifications": [r.to_json() for r in self.overdue_rectifications],
            "overdue_publications": [p.to_json() for p in self.overdue_publications],
        }


# -- pure assembly ----------------------------------------------------------------------------------
def counts_from(
    groups: list[queries.Group],
    notices: dict[tuple[int | None, str], tuple[int, int]],
    due: dict[int | None, int],
) -> tuple[dict[int | None, Counts], Counts]:
    """Per-unit counts and the bureau's (each task, record, order once: lead-unit facts only)."""
    per_unit: dict[int | None, Counts] = {}
    bureau = Counts()

    def at(unit: int | None) -> Counts:
        return per_unit.setdefault(unit, Counts())

    for g in groups:
        target = at(g.unit_id)
        co = g.tag == "co"
        for counts in (target, None if co else bureau):
            if counts is None:
                continue
            _apply(counts, g, co)
    for (unit, mode), (objects, served) in notices.items():
        for counts in (at(unit), bureau):
            if mode == "exempt":
                counts.notices_exempt += objects
            else:
                counts.notices_due += objects
                counts.notices_served += served
    for unit, count in due.items():
        at(unit).rect_due += count
        bureau.rect_due += count
    return per_unit, bureau


def _apply(counts: Counts, g: queries.Group, co: bool) -> None:
    kind = g.kind
    if kind == "task.create":
        counts.tasks_started += g.count
    elif kind == "task.dispatch":
        if co:
            counts.tasks_joined += g.count
        else:
            counts.tasks_dispatched += g.count
            counts.tasks_joint += g.flagged
    elif kind == "task.review":
        if co:
            counts.tasks_finished_joined += g.count
        else:
            counts.tasks_finished += g.count
    elif kind == "dispatch.accept":
        counts.accepts += g.count
        counts.accepts_timed += g.valued
        counts.accept_hours += g.value_sum
    elif kind == "record.submit":
        counts.records_submitted += g.count
        counts.records_on_time += g.flagged
    elif kind == "rectification.overdue":
        counts.rect_overdue += g.subjects
    elif kind == "rectification.not_corrected":
        counts.rect_not_corrected += g.subjects
    elif kind == "rectification.closed":
        counts.rect_closed += g.subjects
        if g.tag == "corrected":
            counts.rect_closed_corrected += g.subjects
        elif g.tag == "on_spot":
            counts.rect_closed_on_spot += g.subjects
        elif g.tag == "escalated":
            counts.rect_closed_escalated += g.subjects
    elif kind == "publication.published":
        counts.pubs_published += g.count
        counts.pubs_on_time += g.flagged


def theme_standing(
    snapshots: dict[int, dict[str, Any]],
    reviews: dict[int, list[tuple[date, bool]]],
    today: date,
    unit_names: dict[int, str],
) -> list[ThemeStatus]:
    """Each claimed theme as of ``today``: joint inspections done against the required number,
    and days left or overdue (BR-30). Joint = the task had two or more units when dispatched."""
    found = []
    for theme_id, snap in sorted(snapshots.items()):
        unit_id = snap.get("claimed_by_unit_id")
        if not snap.get("active", True) or unit_id is None or snap.get("status") not in CLAIMED:
            continue
        deadline = date.fromisoformat(snap["deadline"]) if snap.get("deadline") else None
        required = max(1, int(snap.get("min_joint_inspections") or 1))
        joint_days = [day for day, joint in reviews.get(theme_id, []) if joint]
        done = len(joint_days)
        fulfilled_on = joint_days[required - 1] if done >= required else None
        days_left = days_overdue = None
        if fulfilled_on is not None:
            status = "fulfilled" if deadline is None or fulfilled_on <= deadline else "fulfilled_late"
        elif deadline is not None and today > deadline:
            status, days_overdue = "overdue", (today - deadline).days
        else:
            status = "open"
            days_left = (deadline - today).days if deadline is not None else None
        found.append(
            ThemeStatus(
                id=theme_id,
                name=str(snap.get("name", f"主题{theme_id}")),
                unit_id=unit_id,
                unit=unit_names.get(unit_id, f"单位{unit_id}"),
                deadline=deadline,
                required=required,
                done=done,
                status=status,
                fulfilled_on=fulfilled_on,
                days_left=days_left,
                days_overdue=days_overdue,
            )
        )
    return found


def rank(units: list[UnitFigures]) -> list[UnitFigures]:
    """晾晒 order: more finished tasks taken part in (this year), then fewer overdue items, then a
    higher joint-inspection rate. Equal keys share a rank (1, 2, 2, 4); names break the tie in
    the listing only."""

    def key(u: UnitFigures) -> tuple[int, int, float]:
        return (-u.ytd.tasks_taken_part, u.standing.overdue_items, -(u.ytd.joint_rate or 0.0))

    ordered = sorted(units, key=lambda u: (*key(u), u.name))
    previous: tuple[int, int, float] | None = None
    for position, unit in enumerate(ordered, start=1):
        current = key(unit)
        unit.rank = position if current != previous else ordered[position - 2].rank
        previous = current
    return ordered


# -- reading the database ---------------------------------------------------------------------------
def compute(session: Session, period: Period, *, tz: str) -> Figures:
    """Every figure for ``period`` (and this year to the period's end), as of the period's end."""
    as_of = period.end
    today = local_date(as_of, tz)
    ytd = Period(year_start(as_of, tz), as_of)
    period_units, period_bureau = counts_from(
        queries.counted(session, period),
        queries.notices(session, period),
        queries.rectifications_due(session, deadline_days(period, tz), as_of),
    )
    ytd_units, ytd_bureau = counts_from(
        queries.counted(session, ytd),
        queries.notices(session, ytd),
        queries.rectifications_due(session, deadline_days(ytd, tz), as_of),
    )
    open_rects = queries.overdue_rectifications(session, as_of)
    open_pubs = queries.overdue_publications(session, today, as_of)
    listed = queries.active_units(session)
    names = {uid: name for uid, name, _ in listed}
    snapshots = history.as_of_many(session, "theme", as_of)
    claimants = {s.get("claimed_by_unit_id") for s in snapshots.values()} - {None}
    involved = (
        set(period_units) | set(ytd_units) | set(open_pubs) | {r.unit_id for r in open_rects} | claimants
    )
    names.update(queries.names_of_units(session, {u for u in involved if u is not None} - names.keys()))
    themes = theme_standing(snapshots, queries.theme_reviews(session, as_of), today, names)

    unit_ids = [uid for uid, _, kind in listed if kind in LISTED_KINDS]
    unit_ids += sorted(u for u in involved if u is not None and u not in unit_ids)
    units = {uid: UnitFigures(uid, names.get(uid, f"单位{uid}")) for uid in unit_ids}
    bureau = UnitFigures(None, "全局", period_bureau, ytd_bureau)
    for uid, counts in period_units.items():
        if uid in units:
            units[uid].period = counts
    for uid, counts in ytd_units.items():
        if uid in units:
            units[uid].ytd = counts
    for rect in open_rects:
        if rect.unit_id in units:
            units[rect.unit_id].standing.rect_overdue_open += 1
    for uid, (count, _) in open_pubs.items():
        if uid in units:
            units[uid].standing.pubs_overdue_open += count
    for theme in themes:
        standing = units[theme.unit_id].standing if theme.unit_id in units else None
        for target in (standing, bureau.standing):
            if target is None:
                continue
            target.themes_claimed += 1
            target.themes_fulfilled += theme.status in ("fulfilled", "fulfilled_late")
            target.themes_overdue += theme.status == "overdue"
    bureau.standing.rect_overdue_open = len(open_rects)
    bureau.standing.pubs_overdue_open = sum(count for count, _ in open_pubs.values())
    return Figures(
        as_of=as_of,
        period=period,
        ytd_start=ytd.start,
        today=today,
        bureau=bureau,
        units=rank(list(units.values())),
        themes=themes,
        overdue_rectifications=_name_rectifications(session, open_rects, names, today, tz),
        overdue_publications=[
            OverduePublications(uid, names.get(uid, "未知单位") if uid else "未知单位", count, oldest)
            for uid, (count, oldest) in sorted(open_pubs.items(), key=lambda kv: (-kv[1][0], kv[0] or 0))
        ],
    )


def _name_rectifications(
    session: Session, found: list[queries.OpenOverdue], names: dict[int, str], today: date, tz: str
) -> list[OverdueRectification]:
    """Overdue rectifications as people know them: task number, object, item, deadline."""
    ids = [int(r.subject.split(":", 1)[1]) for r in found]
    rows: dict[int, tuple[str, str, str, date]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(
                Rectification.id,
                Task.number,
                InspectionObject.name,
                Finding.item_name,
                Rectification.deadline_day,
            )
            .join(Task, Task.id == Rectification.task_id)
            .join(InspectionObject, InspectionObject.id == Rectification.object_id)
            .join(Finding, Finding.id == Rectification.finding_id)
            .where(Rectification.id.in_(chunk))
        )
        rows.update({r[0]: (r[1], r[2], r[3], r[4]) for r in session.execute(query)})
    named = []
    for rect_id, item in zip(ids, found, strict=True):
        number, obj, item_name, deadline = rows.get(rect_id, (f"整改{rect_id}", "", "", None))
        since = local_date(item.since, tz)
        label = f"{number} {obj}「{item_name}」" if obj else number
        named.append(
            OverdueRectification(
                id=rect_id,
                unit_id=item.unit_id,
                unit=names.get(item.unit_id, "未知单位") if item.unit_id else "未知单位",
                task_id=item.task_id,
                label=label,
                deadline=deadline,
                since=since,
                days=max(0, (today - since).days),
            )
        )
    named.sort(key=lambda r: (-r.days, r.id))
    return named
