"""WSGI module for bench/webhook.py and bench/submit.py: the real app plus a bare endpoint as the
baseline (``CHAYICI_BENCH_STORED_ONLY``: the submission without its checks, bench/stored_only.py;
``/bench/floor/<token>``: the least a submission must store, bench/floor.py)."""

from __future__ import annotations

import os

from flask import Response

from bench import floor
from chayici import build_app

app = build_app()
floor.register(app)

if os.environ.get("CHAYICI_BENCH_STORED_ONLY"):  # bench/submit.py --stored-only
    from bench import stored_only

    stored_only.StoredOnly().on()


@app.get("/bench/bare")
def bare() -> Response:
    return Response("ok", mimetype="text/plain")
