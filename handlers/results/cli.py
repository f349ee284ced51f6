"""Placeholder replaced below."""

from __future__ import annotations

from typing import Any


def register_cli(sub: Any) -> None:
    return None
