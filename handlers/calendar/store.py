"""The working-day calendar as stored: one table of holidays and make-up working days per year.

A system administrator imports a year's table (``chayici calendar import FILE.csv``; columns
日期, 类型 放假/调休上班, 说明) after the State Council's notice for that year is published. Until
then the tables shipped in ``handlers/calendar/data/`` are used (2026 as published; 2027 holds
only the statutory holidays, marked provisional). A year with neither has weekends only, and
every use of such a year logs a warning, so a missing table cannot go unnoticed.

``calendar_for(session, start, end)`` is the one way code gets a ``Calendar``; every "N working
days" rule goes through it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handlers.calendar.workdays import Calendar, add_workdays
from storage.models import CALENDAR_KINDS, CalendarDay

log = logging.getLogger(__name__)

KIND_WORDS = {"放假": "holiday", "休": "holiday", "调休上班": "workday", "上班": "workday", "班": "workday"}
HEADERS = ("日期", "类型", "说明")
_warned: set[int] = set()


@dataclass(frozen=True)
class Row:
    day: date
    kind: str
    note: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted({row.day.year for row in self.rows})


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, as Chinese Excel writes "CSV"."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("文件既不是 UTF-8 也不是 GB18030 编码，请另存为 CSV（UTF-8）后重试。")


def parse(text: str) -> Parsed:
    """Read and check a table; every problem is listed as ``第 N 行：原因``."""
    result = Parsed()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        result.errors.append("文件是空的。")
        return result
    names = [cell.strip().split("(")[0].split("（")[0] for cell in header]
    missing = [h for h in HEADERS[:2] if h not in names]
    if missing:
        result.errors.append(f"第 1 行：缺少列「{'」「'.join(missing)}」（应为 日期,类型,说明）。")
        return result
    at = {name: names.index(name) for name in HEADERS if name in names}
    seen: dict[date, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        raw_day = cells[at["日期"]].strip() if len(cells) > at["日期"] else ""
        raw_kind = cells[at["类型"]].strip() if len(cells) > at["类型"] else ""
        note = cells[at["说明"]].strip() if "说明" in at and len(cells) > at["说明"] else ""
        try:
            day = date.fromisoformat(raw_day.replace("/", "-").replace(".", "-"))
        except ValueError:
            result.errors.append(f"第 {number} 行：日期「{raw_day}」应写成 2026-10-01 的形式。")
            continue
        kind = KIND_WORDS.get(raw_kind)
        if kind is None:
            result.errors.append(f"第 {number} 行：类型「{raw_kind}」应为「放假」或「调休上班」。")
            continue
        if kind == "workday" and day.weekday() < 5:
            result.errors.append(
                f"第 {number} 行：{day.isoformat()} 不是周末，本来就是工作日，无需登记为调休上班。"
            )
            continue
        if day in seen:
            result.errors.append(f"第 {number} 行：{day.isoformat()} 与第 {seen[day]} 行重复。")
            continue
        seen[day] = number
        result.rows.append(Row(day, kind, note[:100]))
    if not result.rows and not result.errors:
        result.errors.append("文件中没有任何日期。")
    return result


@cache
def builtin(year: int) -> tuple[Row, ...]:
    """The table shipped with the code for ``year`` (empty when there is none)."""
    try:
        text = resources.files("handlers.calendar").joinpath(f"data/{year}.csv").read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    parsed = parse(text)
    if parsed.errors:  # pragma: no cover - the shipped files are checked by a test
        raise ValueError(f"built-in calendar {year}: {parsed.errors[0]}")
    return tuple(parsed.rows)


def builtin_years() -> list[int]:
    names = [entry.name for entry in resources.files("handlers.calendar").joinpath("data").iterdir()]
    return sorted(int(name[:4]) for name in names if name.endswith(".csv") and name[:4].isdigit())


def calendar_for(session: Session, start: date, end: date) -> Calendar:
    """The calendar covering ``start``..``end`` (plus a year each side, since "N working days
    before/after" can cross a year end): stored tables first, then the shipped ones."""
    years = set(range(min(start, end).year - 1, max(start, end).year + 2))
    stored: dict[int, list[Row]] = {}
    rows = session.execute(select(CalendarDay).where(CalendarDay.year.in_(sorted(years))))
    for row in rows.scalars():
        stored.setdefault(row.year, []).append(Row(row.day, row.kind, row.note))
    holidays: list[date] = []
    workdays: list[date] = []
    known: set[int] = set()
    for year in sorted(years):
        table = stored.get(year) or list(builtin(year))
        if table:
            known.add(year)
        for row in table:
            (holidays if row.kind == "holiday" else workdays).append(row.day)
    calendar = Calendar(frozenset(holidays), frozenset(workdays), frozenset(known))
    for year in range(min(start, end).year, max(start, end).year + 1):
        if year not in known and year not in _warned:
            _warned.add(year)
            log.warning(
                "no holiday table for %s: working days count weekends only (chayici calendar import)", year
            )
    return calendar


def missing_years(calendar: Calendar, *days: date) -> list[int]:
    """Years among ``days`` that have no table (the caller may say so to users)."""
    return sorted({d.year for d in days if not calendar.knows(d)})


def store(
    session: Session, parsed: Parsed, *, data: bytes, now: datetime, by: str
) -> dict[int, tuple[int, int]]:
    """Replace the tables of every year in the file. Returns {year: (holidays, workdays)}."""
    source = hashlib.sha256(data).hexdigest()
    counts: dict[int, tuple[int, int]] = {}
    for year in parsed.years:
        session.execute(delete(CalendarDay).where(CalendarDay.year == year))
        rows = [r for r in parsed.rows if r.day.year == year]
        session.add_all(
            CalendarDay(
                day=r.day, year=year, kind=r.kind, note=r.note, source=source, imported_at=now, imported_by=by
            )
            for r in rows
        )
        counts[year] = (sum(r.kind == "holiday" for r in rows), sum(r.kind == "workday" for r in rows))
    session.flush()
    return counts


def describe(calendar: Calendar, year: int) -> list[str]:
    days = sorted(d for d in calendar.holidays | calendar.workdays if d.year == year)
    return [
        f"{d.isoformat()} {CALENDAR_KINDS['holiday' if d in calendar.holidays else 'workday']}" for d in days
    ]


def at_hour(day: date, hour: int, tz: str) -> datetime:
    """``hour`` o'clock local time on ``day``, as an aware datetime (reminders fall due then)."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz))


def workday_at(calendar: Calendar, day: date, count: int, hour: int, tz: str) -> datetime:
    """``hour`` o'clock on the working day ``count`` working days after ``day``."""
    return at_hour(add_workdays(calendar, day, count), hour, tz)


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def span(day: date, days: int = 400) -> tuple[date, date]:
    return day - timedelta(days=days), day + timedelta(days=days)
