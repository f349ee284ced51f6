"""Gunicorn configuration for ``chayici serve`` (``-c python:chayici.gunicorn_conf``).

Metrics use prometheus_client's multiprocess mode: the directory must be in the environment before
prometheus_client is imported, which is why ``chayici serve`` execs gunicorn instead of running it
in the process that already imported the app.
"""

from __future__ import annotations

from typing import Any

worker_class = "sync"
timeout = 30
keepalive = 5
accesslog = None


def child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
