"""Sending a directory answer: markdown for short ones, a notice card when the list is long."""

from __future__ import annotations

from bot.context import CommandContext, Group
from cards.spec import render

LONG_LIST = 8  # entries
LONG_TEXT = 2500  # characters; DingTalk markdown messages are cut around 5,000


def send_answer(ctx: CommandContext, title: str, text: str, *, entries: int, status: str = "") -> None:
    """A markdown reply, or a card (scrollable, forwardable) when the answer is long."""
    if entries <= LONG_LIST and len(text) <= LONG_TEXT:
        ctx.reply_markdown(title, text)
        return
    target: Group | str = Group(ctx.conversation_id) if ctx.is_group else (ctx.staff_id or "")
    ctx.send_card(
        "notice",
        f"directory:{ctx.event_key}",
        target,
        render("notice", title=title, status=status, body=text, fields=[]),
    )
