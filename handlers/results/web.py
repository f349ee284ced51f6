"""Placeholder replaced below."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    return None
