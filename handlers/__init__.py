"""What the bot does, one module per capability. Each module registers with the router.

``register`` is called by the composition root (``chayici``); ``bot`` never imports this package.
"""

from __future__ import annotations

from flask import Flask

from bot.router import Router
from handlers import (
    archive,
    calendar,
    directory,
    documents,
    draw,
    followup,
    oversight,
    publication,
    results,
    tasks,
)
from handlers import help as help_commands

CAPABILITIES = (
    help_commands,
    directory,
    tasks,
    documents,
    draw,
    results,
    calendar,
    followup,
    publication,
    archive,
    oversight,
)


def register(router: Router) -> Router:
    for module in CAPABILITIES:
        module.register(router)
    return router


def register_web(app: Flask) -> None:
    """Web pages some capabilities serve (public code page, mobile forms, dashboard)."""
    for module in CAPABILITIES:
        hook = getattr(module, "register_web", None)
        if hook is not None:
            hook(app)
