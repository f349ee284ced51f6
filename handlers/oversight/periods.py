"""Periods and the bulletin schedule. Pure: no session, no clock.

A period is a half-open interval of instants ``[start, end)``; every figure of a bulletin is
"what the event log says happened in the period", and "as of" lists (what is overdue) are taken
at ``end``. Dates people see (deadlines, due dates, "on time") are the bureau's local dates.

The schedule is a short text so a deployment can change it without code
(``CHAYICI_BULLETIN_SCHEDULE``)::

    weekly:mon:09:00, monthly:last:17:00

``weekly:<mon..sun>:<HH:MM>`` and ``monthly:<1..31|last>:<HH:MM>`` (a day past the month's end
means its last day). A scheduled bulletin covers the time since the rule's previous occurrence,
so consecutive bulletins of one rule neither overlap nor leave a gap.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DEFAULT_SCHEDULE = "weekly:mon:09:00,monthly:last:17:00"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Rule:
    """One line of the schedule. ``day``: weekday 0-6 (weekly) or day of month 1-31 / 0 = last."""

    kind: str  # weekly | monthly
    day: int
    at: time

    @property
    def spec(self) -> str:
        if self.kind == "weekly":
            name = next(k for k, v in WEEKDAYS.items() if v == self.day)
        else:
            name = "last" if self.day == 0 else str(self.day)
        return f"{self.kind}:{name}:{self.at.strftime('%H:%M')}"


def parse_schedule(text: str) -> list[Rule]:
    """Read the schedule text; an empty text means no scheduled bulletins. Raises ValueError."""
    rules: list[Rule] = []
    for raw in text.replace(";", ",").split(","):
        part = raw.strip().lower()
        if not part:
            continue
        pieces = part.split(":")
        if len(pieces) != 4:
            raise ValueError(f"bad bulletin schedule entry {raw.strip()!r}: expected kind:day:HH:MM")
        kind, day_text, hour, minute = pieces
        try:
            at = time(int(hour), int(minute))
        except ValueError:
            raise ValueError(f"bad time in bulletin schedule entry {raw.strip()!r}") from None
        if kind == "weekly":
            if day_text not in WEEKDAYS:
                raise ValueError(f"bad weekday {day_text!r} in bulletin schedule (mon..sun)")
            rules.append(Rule("weekly", WEEKDAYS[day_text], at))
        elif kind == "monthly":
            if day_text == "last":
                rules.append(Rule("monthly", 0, at))
            elif day_text.isdigit() and 1 <= int(day_text) <= 31:
                rules.append(Rule("monthly", int(day_text), at))
            else:
                raise ValueError(f"bad day {day_text!r} in bulletin schedule (1..31 or last)")
        else:
            raise ValueError(f"bad bulletin kind {kind!r} (weekly or monthly)")
    if len({rule.kind for rule in rules}) != len(rules):
        raise ValueError("at most one weekly and one monthly bulletin")
    return rules


def _monthly_day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == 0 else min(day, last))


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def occurrence_on_or_before(rule: Rule, moment: datetime, tz_name: str) -> datetime:
    """The rule's last occurrence at or before ``moment`` (aware, in the bureau's zone)."""
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    if rule.kind == "weekly":
        day = local.date() - timedelta(days=(local.weekday() - rule.day) % 7)
        candidate = _local(day, rule.at, tz)
        return candidate if candidate <= local else _local(day - timedelta(days=7), rule.at, tz)
    year, month = local.year, local.month
    candidate = _local(_monthly_day(year, month, rule.day), rule.at, tz)
    if candidate <= local:
        return candidate
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return _local(_monthly_day(year, month, rule.day), rule.at, tz)


def occurrence_after(rule: Rule, moment: datetime, tz_name: str) -> datetime:
    """The rule's first occurrence strictly after ``moment``."""
    tz = ZoneInfo(tz_name)
    last = occurrence_on_or_before(rule, moment, tz_name)
    if rule.kind == "weekly":
        return _local(last.date() + timedelta(days=7), rule.at, tz)
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return _local(_monthly_day(year, month, rule.day), rule.at, tz)


def period_of(rule: Rule, occurrence: datetime, tz_name: str) -> Period:
    """What a scheduled bulletin covers: from the rule's previous occurrence to this one."""
    previous = occurrence_on_or_before(rule, occurrence - timedelta(microseconds=1), tz_name)
    return Period(previous, occurrence)


def period_key(rule: Rule, occurrence: datetime, tz_name: str) -> str:
    """Unique per (rule kind, occurrence): the bulletin table and the outbox key on it."""
    local = occurrence.astimezone(ZoneInfo(tz_name))
    return f"{rule.kind}:{local.strftime('%Y-%m-%dT%H:%M')}"


def year_start(moment: datetime, tz_name: str) -> datetime:
    """Local 1 January 00:00 of ``moment``'s local year ("本年累计" starts here)."""
    tz = ZoneInfo(tz_name)
    return datetime(moment.astimezone(tz).year, 1, 1, tzinfo=tz)


def week_start(moment: datetime, tz_name: str) -> datetime:
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    return datetime.combine(local.date() - timedelta(days=local.weekday()), time(0), tzinfo=tz)


def month_start(moment: datetime, tz_name: str) -> datetime:
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz)


def month_end(moment: datetime, tz_name: str) -> datetime:
    """Local midnight that ends ``moment``'s month."""
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz)


def local_date(moment: datetime, tz_name: str) -> date:
    return moment.astimezone(ZoneInfo(tz_name)).date()


def day_end(day: date, tz_name: str) -> datetime:
    """The first moment after ``day`` (local midnight): a deadline day is past from here on."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz_name))


def deadline_days(period: Period, tz_name: str) -> tuple[date, date] | None:
    """The deadline days that run out inside the period: days d with start <= day_end(d) < end.

    None when no day ends inside the period (a period shorter than a day, between midnights).
    """
    tz = ZoneInfo(tz_name)
    start = period.start.astimezone(tz)
    first_midnight = datetime.combine(start.date(), time(0), tzinfo=tz)
    if first_midnight < start:
        first_midnight += timedelta(days=1)
    end = period.end.astimezone(tz)
    last_midnight = datetime.combine(end.date(), time(0), tzinfo=tz)
    if last_midnight >= end:
        last_midnight -= timedelta(days=1)
    if last_midnight < first_midnight:
        return None
    return first_midnight.date() - timedelta(days=1), last_midnight.date() - timedelta(days=1)


def week_label(period: Period, tz_name: str) -> str:
    """2026年第49周: the ISO week holding most of a weekly period (the day before it ends)."""
    last_day = (period.end - timedelta(days=1)).astimezone(ZoneInfo(tz_name)).date()
    year, week, _ = last_day.isocalendar()
    return f"{year}年第{week}周"


def month_label(period: Period, tz_name: str) -> str:
    local = (period.end - timedelta(minutes=1)).astimezone(ZoneInfo(tz_name))
    return f"{local.year}年{local.month}月"


def range_label(period: Period, tz_name: str) -> str:
    """11月30日至12月6日 for midnight-to-midnight periods, otherwise with the times."""
    tz = ZoneInfo(tz_name)
    start = period.start.astimezone(tz)
    end = period.end.astimezone(tz)
    if start.time() == time(0) and end.time() == time(0) and end.date() > start.date():
        last = end.date() - timedelta(days=1)
        return f"{start.month}月{start.day}日至{last.month}月{last.day}日"
    return f"{start.month}月{start.day}日 {start:%H:%M} 至 {end.month}月{end.day}日 {end:%H:%M}"
