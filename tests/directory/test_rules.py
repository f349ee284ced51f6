"""Certificate numbers, risk classes, dates, regions and the theme claim rule, as pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.directory.regions import parse_region
from handlers.directory.rules import (
    certificate_problem,
    check_cert_no,
    parse_date,
    parse_risk_class,
)
from handlers.directory.themes import decide_claim, effective_status
from storage.models.directory import Theme

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("value", ["ZJ331102-2022-0001", "123456", "A" * 32, "  ZJ3311020220001  "])
def test_certificate_numbers_are_opaque_strings_of_letters_digits_and_hyphens(value):
    cleaned, problem = check_cert_no(value)
    assert problem is None
    assert cleaned == value.strip()


@pytest.mark.parametrize("value", ["12345", "A" * 33, "浙A12345", "ZJ 3311", "ZJ_3311_01"])
def test_bad_certificate_numbers_are_refused(value):
    assert check_cert_no(value)[1] is not None


def test_expired_certificate_is_explained_with_the_date():
    problem = certificate_problem("ZJ0001", "valid", date(2022, 1, 1), date(2026, 11, 20), TODAY)
    assert "2026-11-20" in problem and "到期" in problem


def test_certificate_valid_on_its_last_day():
    assert certificate_problem("ZJ0001", "valid", date(2022, 1, 1), TODAY, TODAY) == ""


def test_suspended_certificate_does_not_qualify():
    assert "暂扣" in certificate_problem("ZJ0001", "suspended", date(2022, 1, 1), date(2030, 1, 1), TODAY)


@pytest.mark.parametrize(
    ("word", "expected"), [("A", "A"), ("b", "B"), ("C类", "C"), ("D级", "D"), ("", None)]
)
def test_risk_classes(word, expected):
    assert parse_risk_class(word) == (expected, None)


def test_unknown_risk_class_is_an_error():
    assert parse_risk_class("E")[1] is not None


@pytest.mark.parametrize("text", ["2026-12-31", "2026/12/31", "2026.12.31", "2026年12月31日", "20261231"])
def test_date_forms_used_in_bureau_sheets(text):
    assert parse_date(text) == date(2026, 12, 31)


def test_impossible_date_is_none():
    assert parse_date("2026-02-30") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("莲都区", "331102"),
        ("莲都", "331102"),
        ("331181", "331181"),
        ("市本级", "331100"),
        ("景宁", "331127"),
        ("杭州", None),
    ],
)
def test_regions(text, code):
    assert parse_region(text) == code


def _theme(**values) -> Theme:
    defaults = {"name": "人行道监管一件事", "status": "open", "active": True, "min_joint_inspections": 1}
    defaults.update(values)
    return Theme(**defaults)


def test_claim_takes_the_theme_deadline_when_none_is_given():
    decision = decide_claim(
        _theme(deadline=date(2026, 12, 31)),
        unit_id=1,
        unit_name="甲",
        claimant_name=None,
        asked=None,
        today=TODAY,
    )
    assert decision.ok and decision.deadline == date(2026, 12, 31)


def test_claim_without_any_deadline_asks_for_one():
    decision = decide_claim(_theme(), unit_id=1, unit_name="甲", claimant_name=None, asked=None, today=TODAY)
    assert not decision.ok and "认领 人行道" in (decision.refusal or "")


def test_claim_cannot_extend_the_theme_deadline():
    decision = decide_claim(
        _theme(deadline=date(2026, 12, 31)),
        unit_id=1,
        unit_name="甲",
        claimant_name=None,
        asked=date(2027, 1, 31),
        today=TODAY,
    )
    assert not decision.ok and "不能晚于" in (decision.refusal or "")


def test_claim_in_the_past_is_refused():
    decision = decide_claim(
        _theme(), unit_id=1, unit_name="甲", claimant_name=None, asked=date(2026, 11, 1), today=TODAY
    )
    assert not decision.ok and "已过" in (decision.refusal or "")


def test_theme_claimed_by_another_unit_is_refused_with_the_claimant():
    theme = _theme(status="claimed", claimed_by_unit_id=2, deadline=date(2026, 12, 31))
    decision = decide_claim(theme, unit_id=1, unit_name="甲", claimant_name="乙处", asked=None, today=TODAY)
    assert not decision.ok and "已由乙处认领" in (decision.refusal or "")


def test_overdue_is_derived_from_the_deadline_and_the_count():
    theme = _theme(status="claimed", claimed_by_unit_id=2, deadline=date(2026, 11, 30))
    assert effective_status(theme, 0, TODAY) == "overdue"
    assert effective_status(theme, 1, TODAY) == "fulfilled"
    assert effective_status(theme, 0, date(2026, 11, 30)) == "claimed"


def test_every_object_flag_has_a_label():
    from handlers.directory.rules import FLAG_LABELS
    from storage.models.directory import OBJECT_FLAGS

    assert tuple(FLAG_LABELS) == OBJECT_FLAGS
