"""Variant (c) of ``bench/submit.py --floor``: the least any form submission must do, to show
how high the ratio b/a can go on a database at all.

``POST /bench/floor/<token>`` verifies the signed link as the form does, parses the same JSON body,
stores it as one row in one committed transaction (``Database.direct(write=True)``: on PostgreSQL
``BEGIN``, the ``INSERT`` and ``COMMIT`` as one message with the commit waiting for the log flush,
on SQLite under the write lock), and answers a short JSON. It reads nothing, checks nothing, links
no audit event and queues no job: what a real submission must also do (the record's state, the
team, the ODK duplicate and conflict answers, the version, the record, the audit chain, the job)
all comes on top. A unique submission id keeps the one index a real store cannot do without.
"""

from __future__ import annotations

from flask import Flask, Response, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, bindparam, insert
from sqlalchemy.engine import Engine

from handlers.results import links
from storage import raw
from storage.base import load_json

METADATA = MetaData()
FLOOR = Table(
    "bench_floor",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("instance_id", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
_INSERT = insert(FLOOR).values({c.name: bindparam(c.name) for c in FLOOR.columns if c.name != "id"})


def create(engine: Engine) -> None:
    """The table, in the bench's database (dropped with its schema or temp dir)."""
    METADATA.create_all(engine)


def register(app: Flask) -> None:
    """Adds the endpoint to the bench's app (bench/webhook_app.py)."""

    @app.post("/bench/floor/<string:token>")
    def floor(token: str) -> Response:
        services = app.extensions["chayici"]
        now = services.clock.now()
        try:
            grant = links.verify(services.settings, token, now)
        except links.BadLink as bad:
            return Response(str(bad), status=403)
        body = request.get_data(cache=False)
        data = load_json(body)
        with services.db.direct(write=True) as handle:
            raw.send(
                handle,
                _INSERT,
                {
                    "record_id": grant.record_id,
                    "person_id": grant.person_id,
                    "instance_id": str(data["submission_id"]),
                    "body": body.decode(),
                    "at": now,
                },
            )
        return Response(b'{"ok":true}', mimetype="application/json")
