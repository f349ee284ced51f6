"""Keeping the group's cards current: the draw card (一公开) and the task card's progress rows."""

from __future__ import annotations

from bot.context import CardContext, Context, Group
from cards.draw import draw_card
from handlers.draw.views import draw_view
from handlers.tasks import service as tasks
from storage.models.tasks import Task


def draw_card_id(task: Task) -> str:
    return f"draw-{task.id}"


def publish_draw_card(ctx: Context, task: Task) -> dict[str, str]:
    """Post or update the draw card. Returns the params when the clicked card is the draw card
    (the callback answer carries them, so no second update is queued)."""
    view = draw_view(ctx.session, ctx.settings, task)
    if view is None:
        return {}
    params = draw_card(view)
    readonly = task.state in ("cancelled", "closed")
    if isinstance(ctx, CardContext) and ctx.card.out_track_id == draw_card_id(task):
        if readonly:
            ctx.card.state = "readonly"
        return params
    if task.conversation_id:
        ctx.send_card(
            "draw_card", draw_card_id(task), Group(task.conversation_id), params, entity=("task", task.id)
        )
        if readonly:
            ctx.update_card(draw_card_id(task), params, readonly=True)
    return {}


def refresh(ctx: Context, task: Task) -> dict[str, str]:
    """Both group cards; returns the draw card's params if that card was clicked."""
    params = publish_draw_card(ctx, task)
    tasks.publish_card(ctx, task)
    return params
