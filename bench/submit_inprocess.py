"""Result submissions in one process, without gunicorn or a load generator: statements and CPU per
submission against the bare endpoint (Flask test client for both), so a change on the submission
path can be judged without the noise of a loaded two-core machine. Seeds like ``bench/submit.py``.

    python bench/submit_inprocess.py                      # SQLite in a temp dir
    python bench/submit_inprocess.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/submit_inprocess.py --profile            # cProfile of the submissions, own time
    python bench/submit_inprocess.py --sample             # CPU-time samples (bench/cpusample.py)
    python bench/submit_inprocess.py --split              # what reading and storing cost alone

``--split`` then runs (b) again alternating with (c): submissions of the same kind with the checks
(``service.prepare``) and the page's answer (``web._submitted``) replaced by their results,
computed once on a real submission (``bench/stored_only.py``): (c) - (a) is what reading and
storing a version cost, (b) - (c) what the checks and the answer cost.

The PostgreSQL database given is wiped (schema ``public`` recreated).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inprocess  # noqa: E402


def main() -> None:
    args = inprocess.arguments(__doc__, 1000, split=True)

    tmp = tempfile.mkdtemp(prefix="bench-submit-inproc-")
    url = args.pg or f"sqlite:///{tmp}/bench.db"
    import bench.submit as submit
    from bench.webhook import SECRET

    os.environ.update(
        CHAYICI_DATABASE_URL=url,
        CHAYICI_DATA_DIR=tmp,
        CHAYICI_APP_SECRET=SECRET,
        CHAYICI_LINK_SECRET=submit.LINK_SECRET,
    )
    from sqlalchemy import event, text

    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(url)
    if args.pg:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    upgrade(database.engine)
    database.dispose()
    warm = 100
    total = (
        warm
        + args.requests * (2 if args.profile or args.sample else 1)
        + (2 * args.requests if args.split else 0)
    )
    requests = submit.submissions(submit.seed(url, total, history=1000))

    from bench.webhook_app import app

    services = app.extensions["chayici"]
    client = app.test_client()
    statements = [0]

    @event.listens_for(services.db.engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        statements[0] += 1

    def post(path: str, body: bytes) -> None:
        response = client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.data

    for path, body in requests[:warm]:
        post(path, body)
    for _ in range(warm):
        client.get("/bench/bare")

    statements[0] = 0
    server = inprocess.server_cpu()
    wal = inprocess.wal_position(url) if args.pg else 0
    started, wall = time.process_time(), time.perf_counter()
    for path, body in requests[warm : warm + args.requests]:
        post(path, body)
    submit_cpu = (time.process_time() - started) / args.requests * 1000
    submit_wall = (time.perf_counter() - wall) / args.requests * 1000
    per_request = statements[0] / args.requests
    server_ms = inprocess.server_cpu_since(server) / args.requests * 1000
    if args.pg:
        backends_ms = inprocess.database_cpu_since(server, url) / args.requests * 1000
        wal_bytes = (inprocess.wal_position(url) - wal) / args.requests
    started = time.process_time()
    for _ in range(args.requests):
        client.get("/bench/bare")
    bare_cpu = (time.process_time() - started) / args.requests * 1000
    if args.split:
        tail = requests[len(requests) - 2 * args.requests :]
        mixed_cpu, stored_cpu = _split(post, tail[: args.requests], tail[args.requests :])

    name = "PostgreSQL" if args.pg else "SQLite"
    print(f"in-process submission path on {name}, {args.requests} requests each")
    print(f"(a) bare endpoint              CPU {bare_cpu:.3f} ms/request")
    print(
        f"(b) POST /form/<t>/submit      CPU {submit_cpu:.3f} ms/request (wall {submit_wall:.3f} ms),"
        f" {per_request:.1f} statements/request through SQLAlchemy"
    )
    if args.pg:
        print(f"    PostgreSQL server CPU {server_ms:.3f} ms/request (its processes' counters)")
        print(
            f"    of which this database's connections {backends_ms:.3f} ms/request;"
            f" WAL {wal_bytes:,.0f} bytes/request (whole server)"
        )
    print(f"CPU ratio a/b = {bare_cpu / submit_cpu:.3f}")
    if args.split:
        print(
            f"(b) again and (c) reading and storing only, in alternating chunks: (b) CPU {mixed_cpu:.3f},"
            f" (c) CPU {stored_cpu:.3f} ms/request"
        )
        print(
            f"    storing {stored_cpu - bare_cpu:.3f} ms, checks and answer {mixed_cpu - stored_cpu:.3f} ms"
            f" per request; CPU ratio a/c = {bare_cpu / stored_cpu:.3f}"
        )
    second = requests[warm + args.requests : warm + 2 * args.requests]
    if args.profile:
        inprocess.profile(lambda: [post(path, body) for path, body in second])
    elif args.sample:
        from bench import cpusample

        cpusample.sample(lambda: [post(path, body) for path, body in second])
        cpusample.report("form_submit", sys.stdout, int(os.environ.get("PROF_N", "40")))
    services.db.dispose()


def _split(
    post: Callable[[str, bytes], None], real: list[tuple[str, bytes]], stored: list[tuple[str, bytes]]
) -> tuple[float, float]:
    """CPU ms per request of (b) and (c) (``bench/stored_only.py``), run in alternating chunks of
    100 so that the machine's drift falls on both alike; (c)'s first request runs the checks."""
    from bench import stored_only

    spent = [0.0, 0.0]
    counts = [0, 0]
    switch = stored_only.StoredOnly()
    switch.on()
    try:
        post(*stored[0])  # checked for real; every later (c) request stores a copy of it
    finally:
        switch.off()
    stored = stored[1:]
    for start in range(0, min(len(real), len(stored)), 100):
        for which, chunk in ((0, real[start : start + 100]), (1, stored[start : start + 100])):
            if which:
                switch.on()
            try:
                began = time.process_time()
                for path, body in chunk:
                    post(path, body)
                spent[which] += time.process_time() - began
                counts[which] += len(chunk)
            finally:
                switch.off()
    return spent[0] / counts[0] * 1000, spent[1] / counts[1] * 1000


if __name__ == "__main__":
    main()
