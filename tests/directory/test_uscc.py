"""统一社会信用代码 rules (domain.md §5), checked directly on the pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.directory import uscc


def test_worked_example_one_is_valid():
    result = uscc.validate("91110000600037341L")
    assert result.ok and not result.legacy and result.warning is None


def test_standard_example_with_z_is_refused_and_names_check_character_three():
    result = uscc.validate("91350100M000100Y4Z")
    assert not result.ok
    assert "「3」" in (result.error or "")
    assert uscc.check_char("91350100M000100Y4") == "3"


def test_synthetic_lishui_example_is_valid():
    assert uscc.is_valid("91331102MA2A0B1C3N")


def test_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("prefix", ["Y1331102MA2A0B1C3", "A1110000MA2A0B1C3", "N1331102MA2A0B1C3"])
def test_codes_with_letters_in_first_two_positions_are_accepted(prefix):
    code = uscc.make_uscc(prefix)
    assert uscc.validate(code).ok


@pytest.mark.parametrize(("value", "length"), [("91331102MA2A0B1C3", 17), ("91331102MA2A0B1C3N1", 19)])
def test_wrong_length_is_refused_with_the_length(value, length):
    result = uscc.validate(value)
    assert not result.ok
    assert f"长度为 {length} 位" in (result.error or "")


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_refused_by_name(letter):
    value = "91331102M" + letter + "2A0B1C3N"
    result = uscc.validate(value)
    assert not result.ok
    assert letter in (result.error or "") and "不使用" in (result.error or "")


def test_letters_in_region_positions_are_refused():
    result = uscc.validate("9133A102MA2A0B1C3N")
    assert not result.ok
    assert "第 3 至 8 位" in (result.error or "")


def test_legacy_fifteen_digit_number_is_accepted_as_flagged_legacy():
    result = uscc.validate("331102600012345")
    assert result.ok and result.legacy
    assert "注册号" in (result.warning or "")


def test_spaces_hyphens_and_lower_case_are_normalised():
    assert uscc.validate(" 9133 1102-ma2a0b1c3n ").value == "91331102MA2A0B1C3N"
    assert uscc.is_valid("9133 1102-ma2a0b1c3n")


def test_unknown_authority_code_only_warns():
    code = uscc.make_uscc("B1331102MA2A0B1C3")
    result = uscc.validate(code)
    assert result.ok
    assert "第 1 位" in (result.warning or "")


def test_unknown_category_under_known_authority_only_warns():
    result = uscc.validate(uscc.make_uscc("95331102MA2A0B1C3"))
    assert result.ok
    assert "第 2 位" in (result.warning or "")


def test_make_uscc_refuses_a_bad_prefix():
    with pytest.raises(ValueError):
        uscc.make_uscc("9133110XMA2A0B1C3")


body = st.text(alphabet=uscc.CHARSET, min_size=9, max_size=9)


@given(head=st.sampled_from(["91", "92", "93", "Y1", "A1", "N1", "52", "11"]), body=body)
def test_generated_codes_validate_and_any_other_check_character_does_not(head, body):
    code = uscc.make_uscc(head + "331102" + body)
    assert uscc.validate(code).ok
    for other in uscc.CHARSET:
        if other != code[-1]:
            assert not uscc.validate(code[:-1] + other).ok


def test_fast_shape_check_accepts_exactly_the_charset():
    import re

    printable = "".join(chr(code) for code in range(33, 127))
    assert "".join(ch for ch in printable if re.fullmatch(uscc._SYMBOL, ch)) == uscc.CHARSET
