"""WSGI module for bench/webhook.py: the real app plus a bare endpoint as the baseline."""

from __future__ import annotations

from flask import Response

from chayici import build_app

app = build_app()


@app.get("/bench/bare")
def bare() -> Response:
    return Response("ok", mimetype="text/plain")
