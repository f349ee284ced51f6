"""What the in-process benches (``webhook_inprocess.py``, ``submit_inprocess.py``) share: their
arguments and the CPU profile of a run."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable


def arguments(doc: str | None, requests: int, *, split: bool = False) -> argparse.Namespace:
    """``split``: the bench offers ``--split`` (see its docstring)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="PostgreSQL URL (schema public is reset)")
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--profile", action="store_true", help="cProfile of a second run, timed by CPU")
    parser.add_argument(
        "--sample", action="store_true", help="CPU-time sampling of a second run (bench/cpusample.py)"
    )
    if split:
        parser.add_argument("--split", action="store_true", help="also run (c): reading and storing alone")
    return parser.parse_args()


def server_cpu(name: str = "postgres") -> dict[int, float]:
    """CPU seconds (user + system) of each local process called ``name``, by pid: the database
    server's share of an in-process run is the difference between two readings (backends that
    started in between count from zero)."""
    return {pid: seconds for pid, (comm, seconds) in _processes().items() if comm == name}


def cpu_by_name() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every local process with its name, by pid; two readings
    tell where a loaded run's CPU went (``cpu_split``)."""
    return _processes()


def cpu_split(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by process name since ``before`` (``cpu_by_name``), processes that started in
    between counted from zero; python processes count as ``python`` whatever their version."""
    split: dict[str, float] = {}
    for pid, (comm, seconds) in _processes().items():
        name = "python" if comm.startswith("python") or comm == "gunicorn" else comm
        spent = seconds - before.get(pid, (comm, 0.0))[1]
        if spent > 0:
            split[name] = split.get(name, 0.0) + spent
    return split


def database_pids(url: str) -> list[int]:
    """The server processes serving connections to the database of ``url`` (not this query's):
    with two runs at once on two databases, each run's share of the server is told apart."""
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def wal_position(url: str) -> int:
    """The server's WAL insert position in bytes (the whole cluster: compare runs one at a time)."""
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as connection:
        row = connection.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')").fetchone()
    return int(row[0])


def database_cpu_since(before: dict[int, float], url: str) -> float:
    """CPU seconds since ``before`` (``server_cpu``) of the processes serving ``url``'s database."""
    now = server_cpu()
    return sum(now.get(pid, 0.0) - before.get(pid, 0.0) for pid in database_pids(url))


def _processes() -> dict[int, tuple[str, float]]:
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        values = fields[1].split()
        found[int(entry)] = (fields[0].split("(", 1)[1], (int(values[11]) + int(values[12])) / tick)
    return found


def server_cpu_since(before: dict[int, float], name: str = "postgres") -> float:
    """CPU seconds the server's processes used since the ``before`` reading of ``server_cpu``."""
    return sum(value - before.get(pid, 0.0) for pid, value in server_cpu(name).items())


def profile(run: Callable[[], object]) -> None:
    """cProfile of ``run`` timed by CPU, not waits; ``PROF_SORT`` (tottime) and ``PROF_N`` (30)."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run()
    profiler.disable()
    pstats.Stats(profiler).sort_stats(os.environ.get("PROF_SORT", "tottime")).print_stats(
        int(os.environ.get("PROF_N", "30"))
    )
