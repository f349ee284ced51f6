"""After the inspection: rectification (责令改正) with reminders and the 复查, and the
dispositions of a finding (抄告, 上报, 移送, credit proposals). docs/followup.md describes it.

| Module | Job |
|---|---|
| ``states.py``, ``transfer_states.py`` | the state machines (pure, checked at import) |
| ``rules.py`` | when reminders fall due; what a re-check needs (BR-23, BR-25) (pure) |
| ``service.py`` | transitions with their audit events; service; on-the-spot; the re-check |
| ``people.py`` | responsible unit, heads, teams, replacement under the draw rules |
| ``reminders.py`` | the ticker's batch handlers (due soon, deadline, re-check overdue) |
| ``views.py``, ``commands.py`` | cards, 逾期, 整改 <编号>, card actions |
| ``dispositions.py``, ``disposition_commands.py`` | 抄告, 上报, 移送, 信用 and their deadlines |
| ``media.py`` | chat files for a transfer or a re-check |

Hooks into results and documents are added once, when this package is imported.
"""

from __future__ import annotations

from bot.context import Context
from bot.router import Router
from handlers.documents.service import on_rendered
from handlers.followup import commands, disposition_commands, dispositions, media, service, views
from handlers.followup.states import RUNNING
from handlers.results import hooks as results_hooks
from storage.models import Document, Rectification

__all__ = ["dispositions", "register"]


def _add_once(registry: list, hook: object) -> None:  # type: ignore[type-arg]
    if hook not in registry:
        registry.append(hook)


def order_rendered(ctx: Context, document: Document) -> None:
    """The 责令改正通知书 PDF exists: the team gets the rectification card (service, on the spot)."""
    from sqlalchemy import select

    rect = ctx.session.execute(
        select(Rectification).where(Rectification.order_doc_id == document.id)
    ).scalar_one_or_none()
    if rect is not None and rect.state in RUNNING and not document.voided:
        views.send_order_cards(ctx, rect)


_add_once(results_hooks.on_order_issued, service.on_order_issued)
_add_once(results_hooks.on_order_withdrawn, service.on_order_withdrawn)
_add_once(results_hooks.media_routes, media.route)
_add_once(on_rendered.setdefault("rectify_order", []), order_rendered)


def register(router: Router) -> None:
    commands.register(router)
    disposition_commands.register(router)
