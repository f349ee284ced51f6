"""Working days: weekends, public holidays and make-up working days (调休).

Pure functions over a ``Calendar`` (a set of holidays and a set of make-up working days). Every
"N working days" rule (publication within 20 working days, re-inspection SLA, reminders N working
days before a deadline) goes through here, so a holiday with a make-up Saturday is handled in one
place. A year without a loaded table falls back to plain weekends, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # 调休: weekend days worked
    years: frozenset[int] = field(default_factory=frozenset)  # years with a loaded table

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> Calendar:
        holidays, workdays = frozenset(holidays), frozenset(workdays)
        clash = holidays & workdays
        if clash:
            raise ValueError(f"{min(clash).isoformat()} 不能既是节假日又是调休上班日")
        return cls(holidays, workdays, frozenset(d.year for d in holidays | workdays))

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def knows(self, day: date) -> bool:
        """Whether the year of ``day`` has a loaded holiday table."""
        return day.year in self.years


def add_workdays(calendar: Calendar, start: date, count: int) -> date:
    """The date ``count`` working days after ``start`` (``start`` itself not counted).

    With ``count`` 0 the result is ``start`` if it is a working day, else the next working day.
    Negative counts go backwards (``-3`` = three working days before ``start``).
    """
    day = start
    if count == 0:
        while not calendar.is_workday(day):
            day += timedelta(days=1)
        return day
    step = timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if calendar.is_workday(day):
            remaining -= 1
    return day


def workdays_between(calendar: Calendar, start: date, end: date) -> int:
    """Working days in (start, end]: how many working days after ``start`` ``end`` is.

    Negative when ``end`` is before ``start``.
    """
    if end == start:
        return 0
    sign = 1 if end > start else -1
    low, high = (start, end) if sign > 0 else (end, start)
    count = 0
    day = low + timedelta(days=1)
    while day <= high:
        if calendar.is_workday(day):
            count += 1
        day += timedelta(days=1)
    return sign * count
