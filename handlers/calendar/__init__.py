"""The working-day calendar used by every "N working days" rule: the pure arithmetic
(``workdays.py``), the stored yearly tables and the shipped defaults (``store.py``), and
``chayici calendar import|show`` (``cli.py``)."""

from __future__ import annotations

from bot.router import Router
from handlers.calendar.cli import register_cli
from handlers.calendar.store import calendar_for, missing_years

__all__ = ["calendar_for", "missing_years", "register", "register_cli"]


def register(router: Router) -> None:
    """Nothing to route: the calendar is a library for the other capabilities and a CLI."""
