"""``storage.base.canonical_json`` and ``load_json``: orjson's speed with the standard library's
text, since stored hashes (submission content, audit bodies) were made with the latter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.base import canonical_json, load_json

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=20,
)


def _standard(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_canonical_json_writes_what_the_standard_library_wrote(value):
    assert canonical_json(value) == _standard(value)


def test_values_orjson_refuses_are_written_by_the_standard_library_in_the_same_form():
    assert canonical_json({2: "b", 10: "a"}) == '{"2":"b","10":"a"}'  # keys sorted as numbers first
    assert canonical_json([2**70]) == f"[{2**70}]"
    assert canonical_json({"s": {3, 1}}) == '{"s":[1,3]}'


def test_times_are_written_in_utc_and_unknown_types_are_refused():
    at = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert canonical_json({"at": at}) == '{"at":"2026-12-01T01:30:00+00:00"}'
    assert canonical_json(at.astimezone(UTC)) == '"2026-12-01T01:30:00+00:00"'
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_load_json_reads_what_orjson_refuses_and_rejects_text_that_is_not_json():
    assert load_json(b'{"a":[1,"\xe4\xb8\x8d"]}') == {"a": [1, "不"]}
    assert load_json(str(2**70)) == 2**70
    assert load_json("NaN") != load_json("NaN")  # a float NaN, as json.loads reads it
    with pytest.raises(ValueError):
        load_json("{not json")
