"""立卷归档: one dossier per task when it closes (``dossier.py``), built by ``chayici archive
<task>`` or automatically (a periodic scan queues the worker's ``archive.build`` job), checked by
``chayici archive verify FILE``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.context import Context, JobContext, TickContext
from bot.router import Router
from handlers.archive import dossier
from storage.models import Archive
from storage.models.tasks import Task

BUILD_JOB = "archive.build"

__all__ = ["register", "register_cli"]


def scan(ctx: TickContext) -> None:
    """Queue a build for every reviewed task that is ready and not yet archived."""
    archived = select(Archive.task_id)
    for task in ctx.session.execute(
        select(Task).where(Task.state == "reviewed", Task.id.not_in(archived))
    ).scalars():
        if not dossier.blockers(ctx.session, task):
            ctx.enqueue(
                BUILD_JOB,
                {"task_id": task.id},
                key=f"archive:{task.id}:build",
                rate_keys=[f"job:{BUILD_JOB}"],
            )


def build_job(job: JobContext, payload: dict[str, Any]) -> str:
    with job.db.write() as session:
        from handlers.tasks import service as tasks

        ctx = Context(
            session=session, now=job.now, settings=job.settings, audit_log=job.audit_log,
            person=None, staff_id=None, event_key=f"archive:{payload['task_id']}",
        )  # fmt: skip
        task = tasks.lock(session, int(payload["task_id"]))
        try:
            return dossier.archive_task(ctx, task).sha256
        except dossier.NotReady as exc:
            return f"not ready: {exc}"


def register(router: Router) -> None:
    from bot.settings import Settings

    router.periodic("archive.scan", Settings.model_fields["archive_scan_minutes"].default * 60)(scan)
    router.job(BUILD_JOB)(build_job)


def register_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    archive = sub.add_parser("archive", help="立卷归档: chayici archive <task> | chayici archive verify FILE")
    archive.add_argument("what", nargs="+", help="a task number (or this year's sequence), or: verify FILE")
    archive.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    if args.what[0] == "verify":
        if len(args.what) != 2:
            print("用法：chayici archive verify FILE")
            return 2
        problems = dossier.verify(Path(args.what[1]))
        if problems:
            print("核验不通过：\n" + "\n".join(problems))
            return 1
        print(f"核验通过：{args.what[1]} 与清单一致。")
        return 0
    from chayici import build_services

    services = build_services()
    try:
        return run(services, " ".join(args.what))
    finally:
        services.db.dispose()


def run(services: Any, reference: str) -> int:
    """Archive one task now (used by the CLI and tests). 0 done, 1 not ready, 2 unknown task."""
    from handlers.tasks import service as tasks

    now = services.clock.now()
    with services.db.write() as session:
        task = tasks.find(session, reference, year=now.year)
        if task is None:
            print(f"没有找到任务「{reference}」。")
            return 2
        task = tasks.lock(session, task.id)
        ctx = Context(
            session=session, now=now, settings=services.settings, audit_log=services.audit_log,
            person=None, staff_id=None, event_key=f"cli:archive:{task.id}",
        )  # fmt: skip
        try:
            row = dossier.archive_task(ctx, task)
        except dossier.NotReady as exc:
            print(f"{task.number} 暂不能归档：{exc}")
            return 1
        path = Path(services.settings.data_dir) / row.path
    print(f"已归档 {reference}：{path}（{row.files} 个文件，SHA-256 {row.sha256}），任务已办结。")
    return 0
