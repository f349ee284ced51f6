"""Every figure of the hand-made data set (tests/oversight/dataset.py) is what the hand count says."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services import Services
from handlers.oversight import capture
from handlers.oversight.facts import TRACKED
from handlers.oversight.metrics import Figures, compute
from storage.models import AuditEvent, OversightFact
from tests.oversight import dataset
from tests.oversight.conftest import Loaded, by_name

TZ = "Asia/Shanghai"


def figures_for(services: Services, period: Any = dataset.PERIOD) -> Figures:
    with services.db.write() as session:
        capture.catch_up(session, tz=TZ, now=period.end)
        return compute(session, period, tz=TZ)


def check(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    wrong = {key: (actual[key], value) for key, value in expected.items() if actual[key] != value}
    assert not wrong, f"(actual, expected): {wrong}"


@pytest.mark.parametrize("who", ["A", "B", "C", "bureau"])
def test_period_counts_match_the_hand_count(services: Services, week49: Loaded, who: str) -> None:
    figures = by_name(figures_for(services), week49)
    check(figures[who]["period"], dataset.EXPECTED_PERIOD[who])


@pytest.mark.parametrize("who", ["A", "B", "C", "bureau"])
def test_year_to_date_counts_match_the_hand_count(services: Services, week49: Loaded, who: str) -> None:
    figures = by_name(figures_for(services), week49)
    check(figures[who]["ytd"], dataset.EXPECTED_YTD[who])


@pytest.mark.parametrize("who", ["A", "B", "C"])
def test_open_items_and_themes_per_unit_match_the_hand_count(
    services: Services, week49: Loaded, who: str
) -> None:
    figures = by_name(figures_for(services), week49)
    check(figures[who]["standing"], dataset.EXPECTED_STANDING[who])


def test_units_are_ranked_by_finished_tasks_then_overdue_items(services: Services, week49: Loaded) -> None:
    figures = by_name(figures_for(services), week49)
    assert {key: figures[key]["rank"] for key in "ABC"} == dataset.EXPECTED_RANKS


def test_claimed_themes_show_joint_inspections_and_days_left_or_overdue(
    services: Services, week49: Loaded
) -> None:
    themes = {t.name: t for t in figures_for(services).themes}
    assert set(themes) == {
        "时令蔬果自产自销监管一件事",
        "火车站站前监管一件事",
        "人行道监管一件事",
    }  # θ4 unclaimed
    fulfilled = themes["时令蔬果自产自销监管一件事"]
    assert (fulfilled.status, fulfilled.done, fulfilled.fulfilled_on.isoformat()) == (
        "fulfilled",
        1,
        "2026-11-25",
    )
    overdue = themes["火车站站前监管一件事"]
    assert (overdue.status, overdue.done, overdue.days_overdue, overdue.days_left) == ("overdue", 0, 7, None)
    open_ = themes["人行道监管一件事"]
    assert (open_.status, open_.done, open_.required, open_.days_left) == ("open", 1, 2, 24)


def test_overdue_rectifications_are_named_with_their_unit_and_days(
    services: Services, week49: Loaded
) -> None:
    figures = figures_for(services)
    (only,) = figures.overdue_rectifications
    assert only.id == week49.handles.rects["X1"]
    assert only.unit == "市容环境卫生监管处"
    assert "对象1" in only.label and "门前三包责任落实检查" in only.label and "联查" in only.label
    assert (only.deadline.isoformat(), only.since.isoformat(), only.days) == ("2026-12-05", "2026-12-06", 1)
    (pubs,) = figures.overdue_publications
    assert (pubs.unit, pubs.count, pubs.oldest_due.isoformat()) == ("市政公用监管处", 1, "2026-12-05")


def test_a_later_as_of_sees_the_rectification_closed_after_the_period(
    services: Services, week49: Loaded
) -> None:
    later = dataset.Period(dataset.PERIOD.start, dataset.bj(12, 7, 12))
    figures = figures_for(services, later)
    assert figures.overdue_rectifications == []
    assert by_name(figures, week49)["A"]["period"]["tasks_started"] == 2  # the task created 7 Dec 10:00


def test_a_period_with_no_events_counts_nothing(services: Services, week49: Loaded) -> None:
    empty = dataset.Period(dataset.bj(10, 1), dataset.bj(10, 8))
    bureau = by_name(figures_for(services, empty), week49)["bureau"]["period"]
    assert all(value in (0, 0.0, None) for value in bureau.values()), bureau


def test_the_projection_reads_each_event_once_however_often_it_runs(
    services: Services, week49: Loaded
) -> None:
    with services.db.write() as session:
        tracked = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(TRACKED))
        ).scalar_one()
        first = capture.catch_up(session, tz=TZ, now=dataset.PERIOD.end, batch=7)
        again = capture.catch_up(session, tz=TZ, now=dataset.PERIOD.end)
        facts = session.execute(select(func.count()).select_from(OversightFact)).scalar_one()
    assert (first, again) == (tracked, 0)
    # One fact per event, plus: B's co-unit facts for T1 and T2 (dispatch and review: 4) and one
    # notice.due per dispatched object (O0, O1, O2, O3: 4).
    assert facts == tracked + 8
    assert by_name(figures_for(services), week49)["bureau"]["period"]["tasks_started"] == 3
