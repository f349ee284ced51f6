"""Pure rules of tasks: the state machine and the one-line proposal reader."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.tasks.proposal import Choice, Proposal, from_form, parse_one_line, validate
from handlers.tasks.states import IllegalTransition, allowed_events, next_state

TODAY = date(2026, 12, 1)
SCENARIOS = [
    Choice(1, "人行道违规占用检查"),
    Choice(2, "火车站站前秩序检查"),
    Choice(3, "时令蔬果自产自销检查"),
]
THEMES = [Choice(10, "人行道监管一件事", (1,)), Choice(11, "火车站站前监管一件事", (2,))]


@pytest.mark.parametrize(
    ("state", "event", "target"),
    [
        ("draft", "submit", "negotiating"),
        ("negotiating", "request_change", "draft"),
        ("negotiating", "confirm", "confirmed"),
        ("confirmed", "approve", "approved"),
        ("confirmed", "return", "draft"),
        ("approved", "dispatch", "dispatched"),
        ("submitted", "reject_review", "in_progress"),
        ("approved", "cancel", "cancelled"),
    ],
)
def test_allowed_transitions(state, event, target):
    assert next_state(state, event) == target


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("draft", "approve"),
        ("negotiating", "approve"),
        ("dispatched", "cancel"),
        ("cancelled", "submit"),
        ("closed", "cancel"),
        ("confirmed", "confirm"),
    ],
)
def test_refused_transitions_explain_the_current_state(state, event):
    with pytest.raises(IllegalTransition) as caught:
        next_state(state, event)
    assert "当前状态" in str(caught.value)


def test_closed_and_cancelled_are_the_only_terminal_states():
    assert allowed_events("closed") == [] and allowed_events("cancelled") == []
    assert allowed_events("negotiating")


def test_reads_the_fast_one_line_form():
    proposal, errors = parse_one_line(
        "人行道 10家 2026-12-01至2026-12-05 实地核查", today=TODAY, scenarios=SCENARIOS, themes=THEMES
    )
    assert errors == []
    assert proposal is not None
    assert (proposal.scenario_id, proposal.theme_id, proposal.source) == (1, 10, "theme")
    assert (proposal.object_count, proposal.method) == (10, "on_site")
    assert (proposal.window_start, proposal.window_end) == (date(2026, 12, 1), date(2026, 12, 5))


def test_reads_ratio_team_size_cross_office_exemption_and_remarks():
    proposal, errors = parse_one_line(
        "火车站 5% 2026-12-02 至 2026-12-03 书面 每户3人 交叉 不通知:投诉核查 投诉 备注: 夜间 检查",
        today=TODAY,
        scenarios=SCENARIOS,
        themes=THEMES,
    )
    assert errors == []
    assert proposal.object_ratio == 5.0 and proposal.method == "written" and proposal.per_object == 3
    assert proposal.draw_mode == "cross_office" and proposal.prenotice == "exempt"
    assert proposal.prenotice_reason == "投诉核查" and proposal.source == "complaint"
    assert proposal.remarks == "夜间 检查"


def test_impossible_date_is_named():
    _, errors = parse_one_line(
        "人行道 10家 2026-02-30至2026-03-02", today=TODAY, scenarios=SCENARIOS, themes=THEMES
    )
    assert any("2026-02-30" in e and "没有30日" in e for e in errors)


def test_unknown_scenario_is_named_with_a_hint():
    _, errors = parse_one_line(
        "菜市场 10家 2026-12-01至2026-12-05", today=TODAY, scenarios=SCENARIOS, themes=THEMES
    )
    assert any("菜市场" in e and "场景" in e for e in errors)


def test_unreadable_extra_word_is_named():
    _, errors = parse_one_line(
        "人行道 10家 2026-12-01至2026-12-05 明天下午", today=TODAY, scenarios=SCENARIOS, themes=THEMES
    )
    assert any("明天下午" in e for e in errors)


def test_missing_window_is_reported():
    _, errors = parse_one_line("人行道 10家", today=TODAY, scenarios=SCENARIOS, themes=THEMES)
    assert any("缺少检查时间" in e for e in errors)


def test_window_in_the_past_is_refused():
    problems = validate(
        Proposal(
            scenario_id=1, window_start=date(2026, 11, 30), window_end=date(2026, 12, 2), object_count=3
        ),
        today=TODAY,
    )
    assert "已经过去" in problems["window_start"]


def test_end_before_start_is_refused():
    problems = validate(
        Proposal(scenario_id=1, window_start=date(2026, 12, 5), window_end=date(2026, 12, 2), object_count=3),
        today=TODAY,
    )
    assert "不能早于" in problems["window_end"]


def test_fewer_than_two_inspectors_per_object_is_refused():
    problems = validate(
        Proposal(scenario_id=1, window_start=TODAY, window_end=TODAY, object_count=3, per_object=1),
        today=TODAY,
    )
    assert "不少于 2 人" in problems["per_object"]


def test_exemption_needs_a_reason():
    problems = validate(
        Proposal(scenario_id=1, window_start=TODAY, window_end=TODAY, object_count=3, prenotice="exempt"),
        today=TODAY,
    )
    assert "理由" in problems["prenotice_reason"]


def test_form_values_are_read_and_bad_numbers_reported_per_field():
    proposal, problems = from_form(
        {
            "scenario": "1",
            "method": "written",
            "window_start": "2026-12-03",
            "window_end": "2026-12-04",
            "count": "十",
        },
        today=TODAY,
    )
    assert proposal.scenario_id == 1 and proposal.method == "written"
    assert problems == {"count": "检查对象数量应填写数字"}
