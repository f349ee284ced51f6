"""一公开: publication of finished results within 20 working days (BR-19), reminders, the lead's
``公示`` command, ``chayici publish export`` and the public page ``/public/results``.

Hooks into results (a reviewed record is scheduled) and follow-up (a closed rectification turns
the record's A into E) are added once, when this package is imported.
"""

from __future__ import annotations

from typing import Any

from bot.router import Router
from handlers.followup import service as followup
from handlers.publication import commands, service
from handlers.publication.cli import register_cli
from handlers.publication.web import register_web
from handlers.results import hooks as results_hooks

__all__ = ["register", "register_cli", "register_web"]


def _add_once(registry: list, hook: object) -> None:  # type: ignore[type-arg]
    if hook not in registry:
        registry.append(hook)


def _reviewed(ctx: Any, record: Any) -> None:
    service.schedule(ctx, record)


_add_once(results_hooks.on_record_reviewed, _reviewed)
_add_once(followup.on_closed, service.refresh_result)


def register(router: Router) -> None:
    commands.register(router)
