"""Working-day arithmetic across weekends, holidays and make-up working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from handlers.calendar.workdays import Calendar, add_workdays, workdays_between

# A hand-made week: Thu 1 Oct to Wed 7 Oct are holidays; Sat 10 Oct is a make-up working day.
NATIONAL_DAY = Calendar.of(
    holidays=[date(2026, 10, d) for d in range(1, 8)],
    workdays=[date(2026, 10, 10)],
)


def test_plain_weekend_is_skipped():
    assert add_workdays(Calendar(), date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri -> Mon


def test_holiday_week_is_skipped_and_make_up_saturday_counts():
    assert add_workdays(NATIONAL_DAY, date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(NATIONAL_DAY, date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert NATIONAL_DAY.is_workday(date(2026, 10, 10))
    assert not NATIONAL_DAY.is_workday(date(2026, 10, 5))


def test_counting_backwards_for_reminders_before_a_deadline():
    assert add_workdays(NATIONAL_DAY, date(2026, 10, 12), -3) == date(2026, 10, 8)


def test_zero_days_rolls_forward_to_a_working_day():
    assert add_workdays(NATIONAL_DAY, date(2026, 10, 3), 0) == date(2026, 10, 8)
    assert add_workdays(NATIONAL_DAY, date(2026, 10, 8), 0) == date(2026, 10, 8)


def test_twenty_working_days_for_publication():
    # From Mon 28 Sep: 29, 30 Sep; 8, 9, 10 (make-up Saturday); 12-16; 19-23; 26-30 Oct -> the 20th is 30 Oct
    assert add_workdays(NATIONAL_DAY, date(2026, 9, 28), 20) == date(2026, 10, 30)


def test_between_is_the_inverse_of_add():
    start = date(2026, 9, 20)
    for n in range(0, 40):
        end = add_workdays(NATIONAL_DAY, start, n)
        if n:
            assert workdays_between(NATIONAL_DAY, start, end) == n
    assert workdays_between(NATIONAL_DAY, date(2026, 10, 12), date(2026, 10, 8)) == -3  # 9, 10 and 12 Oct


def test_a_day_cannot_be_both_holiday_and_make_up_day():
    with pytest.raises(ValueError, match="不能既是节假日又是调休上班日"):
        Calendar.of(holidays=[date(2026, 10, 10)], workdays=[date(2026, 10, 10)])


def test_calendar_knows_which_years_were_loaded():
    assert NATIONAL_DAY.knows(date(2026, 5, 1))
    assert not NATIONAL_DAY.knows(date(2027, 5, 1))
    assert not Calendar().knows(date(2026, 5, 1) + timedelta(days=1))
