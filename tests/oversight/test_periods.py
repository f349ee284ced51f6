"""The bulletin schedule and periods (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from handlers.oversight.periods import (
    Period,
    Rule,
    deadline_days,
    month_label,
    occurrence_after,
    occurrence_on_or_before,
    parse_schedule,
    period_key,
    period_of,
    range_label,
    week_label,
)
from tests.oversight.world import bj

TZ = "Asia/Shanghai"
WEEKLY = Rule("weekly", 0, time(9, 0))
MONTH_END = Rule("monthly", 0, time(17, 0))


def test_the_default_schedule_is_monday_nine_and_month_end() -> None:
    assert parse_schedule("weekly:mon:09:00, monthly:last:17:00") == [WEEKLY, MONTH_END]
    assert parse_schedule("") == []


@pytest.mark.parametrize(
    "text",
    ["weekly:monday:09:00", "weekly:mon:25:00", "monthly:32:09:00", "daily:mon:09:00", "weekly:mon",
     "weekly:mon:09:00,weekly:fri:17:00"],
)  # fmt: skip
def test_a_bad_schedule_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_the_next_weekly_bulletin_is_the_coming_monday_nine_in_beijing() -> None:
    tuesday = bj(12, 1, 9)
    assert occurrence_after(WEEKLY, tuesday, TZ) == bj(12, 7, 9)
    assert occurrence_on_or_before(WEEKLY, tuesday, TZ) == bj(11, 30, 9)


def test_at_the_very_moment_the_next_occurrence_is_a_week_later() -> None:
    assert occurrence_on_or_before(WEEKLY, bj(12, 7, 9), TZ) == bj(12, 7, 9)
    assert occurrence_after(WEEKLY, bj(12, 7, 9), TZ) == bj(12, 14, 9)


def test_month_end_falls_on_the_last_day_also_in_february() -> None:
    assert occurrence_after(MONTH_END, bj(2, 3, year=2027), TZ) == bj(2, 28, 17, year=2027)
    assert occurrence_after(MONTH_END, bj(12, 31, 17), TZ) == bj(1, 31, 17, year=2027)
    day_31 = parse_schedule("monthly:31:09:00")[0]
    assert occurrence_after(day_31, bj(4, 1), TZ) == bj(4, 30, 9)


def test_a_weekly_period_runs_from_the_previous_monday_nine_and_is_keyed_by_its_moment() -> None:
    period = period_of(WEEKLY, bj(12, 7, 9), TZ)
    assert period == Period(bj(11, 30, 9), bj(12, 7, 9))
    assert period_key(WEEKLY, bj(12, 7, 9), TZ) == "weekly:2026-12-07T09:00"
    assert week_label(period, TZ) == "2026年第49周"
    assert range_label(period, TZ) == "11月30日 09:00 至 12月7日 09:00"


def test_a_month_end_period_covers_the_month_and_is_labelled_with_it() -> None:
    period = period_of(MONTH_END, bj(12, 31, 17), TZ)
    assert period == Period(bj(11, 30, 17), bj(12, 31, 17))
    assert month_label(period, TZ) == "2026年12月"


def test_deadline_days_are_those_whose_end_falls_inside_the_period() -> None:
    assert deadline_days(Period(bj(11, 30, 9), bj(12, 7, 9)), TZ) == (date(2026, 11, 30), date(2026, 12, 6))
    midnight = Period(datetime(2026, 11, 29, 16, tzinfo=UTC), datetime(2026, 12, 6, 16, tzinfo=UTC))
    assert deadline_days(midnight, TZ) == (date(2026, 11, 29), date(2026, 12, 5))
    assert deadline_days(Period(bj(12, 1, 9), bj(12, 1, 18)), TZ) is None
    assert range_label(midnight, TZ) == "11月30日至12月6日"
