"""The directories (一单两库) and the scenario list: objects, inspectors, units, power items,
scenarios and 监管一件事 themes.

Chat: 场景, 主题, 认领, 查对象, 我的信息. Command line: import, export, export-template.
Pure rules (USCC, certificates, theme states) live in their own modules without sessions.
"""

from __future__ import annotations

import argparse

from bot.router import Router


def register(router: Router) -> None:
    from handlers.directory import chat_objects, chat_scenarios

    chat_scenarios.register(router)
    chat_objects.register(router)


def register_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from handlers.directory.cli import register_cli as add_commands

    add_commands(sub)
