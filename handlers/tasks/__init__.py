"""Joint tasks in the group chat: posting, online negotiation with co-units, approval."""

from __future__ import annotations

from bot.router import Router
from handlers.tasks import commands


def register(router: Router) -> None:
    commands.register(router)
