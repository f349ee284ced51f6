"""Oversight (通报晾晒, plan 三(三)): figures from the event log, scheduled bulletins to the
leadership group with a chart, 进度 / 通报 / 看板 in the chat, and the ``/dashboard`` page.

See docs/oversight.md for the definitions of every figure.
"""

from __future__ import annotations

from bot.router import Router
from handlers.oversight import commands, jobs, schedule
from handlers.oversight.cli import register_cli
from handlers.oversight.web import register_web

__all__ = ["register", "register_cli", "register_web"]


def register(router: Router) -> None:
    commands.register(router)
    schedule.register(router)
    jobs.register(router)
