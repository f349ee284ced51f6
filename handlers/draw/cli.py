"""``chayici draw verify <task>``: recompute every draw of a task; exit 1 on any mismatch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from handlers.draw.verify import report, verify_task
from handlers.tasks import service as tasks
from storage.db import Database
from storage.models.tasks import Task


def find_task(session: Session, reference: str) -> Task | None:
    reference = reference.strip()
    task = session.execute(select(Task).where(Task.number == reference)).scalar_one_or_none()
    if task is None and reference.isdigit():
        task = session.get(Task, int(reference))
    if task is None:
        years = sorted(session.execute(select(Task.year).distinct()).scalars(), reverse=True)
        for year in years:
            task = tasks.find(session, reference, year=year)
            if task is not None:
                break
    return task


def verify(reference: str, *, settings: Settings | None = None, out: Any = print) -> int:
    database = Database((settings or Settings()).database_url)
    try:
        with database.read() as session:
            task = find_task(session, reference)
            if task is None:
                out(f"找不到任务「{reference}」。")
                return 2
            ok, text = report(task, verify_task(session, task))
    finally:
        database.dispose()
    out(text)
    return 0 if ok else 1


def register_cli(sub: Any) -> None:
    draw = sub.add_parser("draw", help="the draw (双随机): verify recorded draws")
    draw_sub = draw.add_subparsers(dest="draw_command", required=True)
    check = draw_sub.add_parser("verify", help="recompute every draw of a task from its snapshot and seed")
    check.add_argument("task", help="task number (丽综执联查〔2026〕1号), this year's sequence number, or id")
    check.set_defaults(func=lambda args: verify(args.task))


__all__ = ["find_task", "register_cli", "verify"]
