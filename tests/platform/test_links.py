"""Signed link tokens: tampering, expiry and the purpose prefix each refuse a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.links import LinkError, seal, unseal

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_round_trip_returns_the_claims_with_expiry():
    token = seal("k", b"form/1\n", {"r": 7, "p": 3}, NOW + timedelta(hours=1))
    claims = unseal("k", b"form/1\n", token, NOW)
    assert (claims["r"], claims["p"]) == (7, 3)


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda t: t.replace(".", "", 1), "incomplete"),
        (lambda t: ("A" if t[0] != "A" else "B") + t[1:], "invalid"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "invalid"),
        (lambda t: t + "x" * 500, "incomplete"),
    ],
)
def test_tampered_token_is_refused(mutate, kind):
    token = seal("k", b"form/1\n", {"r": 7}, NOW + timedelta(hours=1))
    with pytest.raises(LinkError) as caught:
        unseal("k", b"form/1\n", mutate(token), NOW)
    assert caught.value.kind == kind


def test_expired_token_is_refused():
    token = seal("k", b"form/1\n", {"r": 7}, NOW)
    with pytest.raises(LinkError) as caught:
        unseal("k", b"form/1\n", token, NOW + timedelta(seconds=1))
    assert caught.value.kind == "expired"


def test_token_for_one_purpose_does_not_open_another():
    token = seal("k", b"form/1\n", {"p": 3}, NOW + timedelta(hours=1))
    with pytest.raises(LinkError):
        unseal("k", b"dashboard/1\n", token, NOW)


def test_token_signed_with_another_secret_is_refused():
    token = seal("other", b"form/1\n", {"p": 3}, NOW + timedelta(hours=1))
    with pytest.raises(LinkError):
        unseal("k", b"form/1\n", token, NOW)
