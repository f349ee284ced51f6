"""双随机、一公开 and 一键分发: the draw of objects and inspectors, its public record, dispatch to
inspectors' phones, pre-notices and 行政行为码.

The hooks into the task module are registered when this package is imported (``register``
runs once per app instance, the hooks are module state and must be added once).
"""

from __future__ import annotations

from bot.router import Router
from handlers.documents.service import on_rendered
from handlers.draw import commands, notices, progress
from handlers.draw.cli import register_cli
from handlers.draw.web import register_web
from handlers.tasks import hooks

__all__ = ["register", "register_cli", "register_web"]


def _add_once(registry: list, hook: object) -> None:  # type: ignore[type-arg]
    if hook not in registry:
        registry.append(hook)


_add_once(hooks.on_approved, commands.on_approved)
_add_once(hooks.on_cancelled, commands.on_cancelled)
_add_once(hooks.progress_providers, progress.dispatch_progress)
_add_once(hooks.onsite_counters, progress.objects_at_cap)
_add_once(on_rendered.setdefault(notices.KIND, []), notices.mark_served)


def register(router: Router) -> None:
    commands.register(router)
