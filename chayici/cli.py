"""The ``chayici`` console command.

Subcommands: serve, worker, demo, workspace, db upgrade, audit verify, and whatever the
capabilities add through ``register_cli(subparsers)`` in their handler modules.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

import handlers
from bot.logmask import install as install_logging
from bot.settings import Settings

log = logging.getLogger("chayici")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chayici", description="综合查一次 联合执法检查机器人")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (callbacks, pages) under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run the outbox worker and the ticker")
    worker.set_defaults(func=_worker)

    demo = sub.add_parser("demo", help="bot + worker + local workspace + sample data on SQLite")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--bot-port", type=int, default=8000)
    demo.add_argument("--workspace-port", type=int, default=8400)
    demo.add_argument("--data-dir", default="chayici-demo")
    demo.add_argument("--fresh", action="store_true", help="start from an empty database")
    demo.set_defaults(func=_demo)

    workspace = sub.add_parser("workspace", help="run the local DingTalk-compatible workspace")
    workspace.add_argument("--host", default="127.0.0.1")
    workspace.add_argument("--port", type=int, default=8400)
    workspace.add_argument("--bot-url", default="http://127.0.0.1:8000")
    workspace.set_defaults(func=_workspace)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the newest")
    upgrade.set_defaults(func=_db_upgrade)

    audit = sub.add_parser("audit", help="audit chain")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check every audit row against its chained hash")
    verify.set_defaults(func=_audit_verify)

    for module in handlers.CAPABILITIES:
        hook = getattr(module, "register_cli", None)
        if hook is not None:
            hook(sub)

    args = parser.parse_args(argv)
    install_logging(logging.INFO)
    for noisy in ("alembic", "werkzeug", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    result: int = args.func(args)
    return result


def _settings() -> Settings:
    return Settings()


def _db_upgrade(_args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(_settings().database_url)
    upgrade(database.engine)
    print("数据库已升级到最新版本。")
    return 0


def _audit_verify(_args: argparse.Namespace) -> int:
    from chayici import build_services

    services = build_services(_settings())
    try:
        with services.db.read() as session:
            result = services.audit_log.verify(session)
    finally:
        services.db.dispose()  # as the other commands do: no pooled connection outlives the command
    if result.ok:
        print(
            f"审计链完整：共 {len(result.heads)} 条链，核验 {result.checked} 条记录。各链链尾（请另行留存，以便日后比对）："
        )
        for chain_id, count, last_hash in result.heads:
            print(f"  第 {chain_id} 条链：{count} 条记录，链尾哈希 {last_hash}")
        return 0
    print(f"审计链断裂：第 {result.broken_id} 号记录 —— {result.reason}（此前 {result.checked} 条核验通过）")
    return 1


def _serve(args: argparse.Namespace) -> int:
    """Exec gunicorn with a fresh metrics folder (see chayici/gunicorn_conf.py for why exec)."""
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="chayici-metrics-")
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        os.unlink(os.path.join(metrics_dir, name))
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=metrics_dir)
    command = [
        sys.executable, "-m", "gunicorn",
        "-c", "python:chayici.gunicorn_conf",
        "-b", f"{args.host}:{args.port}",
        "-w", str(args.workers),
        "chayici.wsgi:app",
    ]  # fmt: skip
    os.execvpe(sys.executable, command, env)
    return 0  # pragma: no cover - exec does not return


def _worker(_args: argparse.Namespace) -> int:
    from bot.dingtalk.client import DingTalkClient
    from bot.ticker import Ticker
    from bot.worker import run_workers
    from chayici import build_services

    services = build_services(_settings())
    stop = threading.Event()
    _stop_on_signals(stop)
    ticker = Ticker(services)
    ticker.start()
    try:
        with services.db.checkpointing(services.settings.sqlite_checkpoint_seconds):
            threads = run_workers(services, lambda: DingTalkClient(services.settings), stop, name="worker")
            while not stop.wait(0.5):
                pass
            for thread in threads:
                thread.join(30)
    finally:
        ticker.stop()
    return 0


def _workspace(args: argparse.Namespace) -> int:
    from chayici.demo import workspace_config
    from workspace.server import serve_forever

    serve_forever(workspace_config(_settings(), bot_url=args.bot_url), args.host, args.port)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from chayici.demo import run_demo

    return run_demo(
        host=args.host,
        bot_port=args.bot_port,
        workspace_port=args.workspace_port,
        data_dir=args.data_dir,
        fresh=args.fresh,
    )


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
