"""On-site results: the team's result form card and mobile form, evidence, submitted versions
(ODK rules), the 现场检查记录 / 行政检查登记表 / 责令改正通知书, findings and rectifications, the
lead's review, and the full-process timeline (``chayici record``).

Hooks into other capabilities are added once, when this package is imported (``register`` runs
once per app instance; the hook lists are module state).
"""

from __future__ import annotations

from bot.router import Router
from handlers.draw import dispatch
from handlers.results import commands, evidence, issue, progress
from handlers.results.cli import register_cli
from handlers.results.web import register_web
from handlers.tasks import hooks as task_hooks

__all__ = ["register", "register_cli", "register_web"]


def _add_once(registry: list, hook: object) -> None:  # type: ignore[type-arg]
    if hook not in registry:
        registry.append(hook)


_add_once(dispatch.on_accepted, commands.on_accepted)
_add_once(dispatch.on_withdrawn, commands.on_withdrawn)
_add_once(task_hooks.progress_providers, progress.results_progress)


def register(router: Router) -> None:
    commands.register(router)
    evidence.register(router)
    router.job(issue.ISSUE_JOB)(issue.run)
