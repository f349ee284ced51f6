"""帮助: the list of commands, generated from what is registered (never a hand-kept list)."""

from __future__ import annotations

from bot.context import CommandContext
from bot.dispatch import role_text
from bot.router import Command, Router


def help_text(router: Router, ctx: CommandContext | None = None) -> str:
    """The command list; built once per router and again whenever a command is registered
    (every 帮助 would otherwise rebuild the same text)."""
    cached: tuple[int, str] | None = getattr(router, "_help_text", None)
    if cached is not None and cached[0] == len(router.commands):
        return cached[1]
    text = _build(router)
    router._help_text = (len(router.commands), text)  # type: ignore[attr-defined]
    return text


def _build(router: Router) -> str:
    sections: dict[str, list[Command]] = {}
    for command in router.commands:
        sections.setdefault(command.section, []).append(command)
    lines = ["#### 可用命令", "在工作群里请先 @我 再输入命令；单聊直接输入即可。", ""]
    for section, commands in sections.items():
        lines.append(f"**{section}**")
        for command in commands:
            usage = f"`{command.usage}`" if command.usage else f"`{command.word}`"
            aliases = f"（也可输入：{'、'.join(command.words[1:])}）" if len(command.words) > 1 else ""
            need = f"｜需{role_text(command.roles)}" if command.roles else ""
            where = {"group": "｜仅限群聊", "private": "｜仅限单聊"}.get(command.where, "")
            lines.append(f"- {usage} {command.summary}{aliases}{need}{where}")
        lines.append("")
    return "\n".join(lines).rstrip()


def register(router: Router) -> None:
    @router.command("帮助", "help", "?", "？", summary="查看可用的命令", public=True, section="常用")
    def show_help(ctx: CommandContext) -> None:
        ctx.reply_markdown("可用命令", help_text(router, ctx))
