"""``chayici record <task> <object>``: print the full-process record of one inspection."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from handlers.draw.cli import find_task
from handlers.results.timeline import find, timeline
from storage.db import Database


def record(task_ref: str, object_ref: str, *, settings: Settings | None = None, out: Any = print) -> int:
    settings = settings or Settings()
    database = Database(settings.database_url)
    try:
        with database.read() as session:
            task = find_task(session, task_ref)
            if task is None:
                out(f"找不到任务「{task_ref}」。")
                return 2
            obj = find(session, task, object_ref)
            if obj is None:
                out(f"任务 {task.number} 中没有检查对象「{object_ref}」。")
                return 2
            lines = timeline(session, task, obj, settings.timezone)
    finally:
        database.dispose()
    out("\n".join(lines))
    return 0


def register_cli(sub: Any) -> None:
    command = sub.add_parser("record", help="执法全过程记录: the timeline of one inspection with hashes")
    command.add_argument(
        "task", help="task number (丽综执联查〔2026〕1号), this year's sequence number, or id"
    )
    command.add_argument("object", help="object id, USCC or name")
    command.set_defaults(func=lambda args: record(args.task, args.object))
