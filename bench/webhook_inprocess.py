"""The robot callback in one process, without gunicorn or a load generator: statements and CPU
per request against the bare endpoint (Flask test client for both), so a change on the callback
path can be judged without the noise of a loaded two-core machine.

    python bench/webhook_inprocess.py                      # SQLite in a temp dir
    python bench/webhook_inprocess.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/webhook_inprocess.py --profile            # cProfile of the callback, own time

The PostgreSQL database given is wiped (schema ``public`` recreated).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inprocess  # noqa: E402


def main() -> None:
    args = inprocess.arguments(__doc__, 2000)

    tmp = tempfile.mkdtemp(prefix="bench-webhook-inproc-")
    url = args.pg or f"sqlite:///{tmp}/bench.db"
    os.environ.update(CHAYICI_DATABASE_URL=url, CHAYICI_DATA_DIR=tmp)
    import bench.webhook as webhook

    os.environ["CHAYICI_APP_SECRET"] = webhook.SECRET
    from sqlalchemy import event, text

    from bench.webhook_app import app
    from storage.migrate import upgrade

    services = app.extensions["chayici"]
    if args.pg:
        with services.db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    upgrade(services.db.engine)

    warm = 200
    bodies, headers = webhook.make_bodies(warm + 2 * args.requests, str(int(time.time() * 1000)))
    client = app.test_client()
    statements = [0]

    @event.listens_for(services.db.engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        statements[0] += 1

    for body in bodies[:warm]:
        response = client.post("/dingtalk/robot", data=body, headers=headers)
        assert response.status_code == 200, response.data
    for _ in range(warm):
        client.get("/bench/bare")

    statements[0] = 0
    started = time.process_time()
    for body in bodies[warm : warm + args.requests]:
        client.post("/dingtalk/robot", data=body, headers=headers)
    robot_cpu = (time.process_time() - started) / args.requests * 1000
    per_request = statements[0] / args.requests
    started = time.process_time()
    for _ in range(args.requests):
        client.get("/bench/bare")
    bare_cpu = (time.process_time() - started) / args.requests * 1000

    name = "PostgreSQL" if args.pg else "SQLite"
    print(f"in-process callback path on {name}, {args.requests} requests each")
    print(f"(a) bare endpoint           CPU {bare_cpu:.3f} ms/request")
    print(
        f"(b) POST /dingtalk/robot    CPU {robot_cpu:.3f} ms/request, {per_request:.1f} statements/request through SQLAlchemy"
    )
    print(f"CPU ratio a/b = {bare_cpu / robot_cpu:.2f}")

    def again() -> object:
        return [
            client.post("/dingtalk/robot", data=body, headers=headers)
            for body in bodies[warm + args.requests :]
        ]

    if args.profile:
        inprocess.profile(again)
    elif args.sample:
        from bench import cpusample

        cpusample.sample(again)
        cpusample.report("robot", sys.stdout, int(os.environ.get("PROF_N", "40")))


if __name__ == "__main__":
    main()
