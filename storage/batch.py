"""A PostgreSQL write transaction sent to the server in as few messages as its reads allow.

``Database.direct(write=True)`` on PostgreSQL hands one of these to ``storage.raw``. Statements
whose answer nobody needs yet (``raw.send``, ``upsert.send_ignore``) are kept on the client; the
next statement whose answer is needed goes out with them, ``BEGIN`` in front of the first, as one
simple-protocol query, and ``finish`` sends what is left with ``COMMIT``: a submission's writes
cost two round trips, whatever their number. PostgreSQL runs the statements of such a query in
order and stops at the first error; ``Database.direct`` then rolls the transaction back.

Each statement shape is prepared once per connection (SQL ``PREPARE``, sent on its own the first
time) and kept statements are ``EXECUTE name(literal, ...)``: the server reuses its plan as with
the driver's own prepared statements, and the client's work per statement is building a short
string. Literals are written here for the types our columns bind (text, numbers, booleans, times,
dates, bytes), quoted as PostgreSQL reads them with ``standard_conforming_strings`` on and UTF-8,
which ``Batch`` checks; any other value is quoted by psycopg.

Why not psycopg's pipeline mode, which this replaced: it kept the extended protocol but cost the
driver several times more CPU per statement and wrote each statement to the socket on its own
(measured, bench/README.md). Why not psycopg's client-side binding alone: unprepared statements
are parsed and planned anew on every run, and quoting every value through psycopg's adapters cost
more than the pipeline it saved.
"""

from __future__ import annotations

import hashlib
import math
import re
import weakref
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.raw import Later

# Statement names prepared on each connection: a prepared statement lives as long as its session.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_NAMED = re.compile(r"%\((\w+)\)s|%%|%s")


@cache
def _shape(sql: str) -> tuple[str, str, tuple[str | int, ...]]:
    """(name, the PREPARE statement, what fills $1..$n: bind names, or positions for ``%s``)."""
    order: list[str | int] = []
    position = 0

    def number(found: re.Match[str]) -> str:
        nonlocal position
        if found.group(0) == "%%":
            return "%"
        if found.group(1) is None:  # positional %s
            order.append(position)
            position += 1
            return f"${len(order)}"
        key = found.group(1)
        if key not in order:
            order.append(key)
        return f"${order.index(key) + 1}"

    body = _NAMED.sub(number, sql)
    name = "chy_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
    return name, f"PREPARE {name} AS {body}", tuple(order)


def literal(value: Any) -> str | None:
    """``value`` as a PostgreSQL literal, or None for a type left to psycopg."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise ValueError("text values cannot hold NUL characters")
        return "'" + value.replace("'", "''") + "'"
    if value is None:
        return "NULL"
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is Decimal:
        return str(value)
    if kind is datetime or kind is date:
        return "'" + value.isoformat() + "'"
    if kind is float:
        return repr(value) if math.isfinite(value) else f"'{value}'"  # 'nan', 'inf', '-inf'
    if kind is bytes:
        return "'\\x" + value.hex() + "'"
    return None


class Batch:
    """One write transaction on an autocommit connection; see the module's docstring."""

    __slots__ = ("_connection", "_done", "_fallback", "_pending", "_prepared", "_waiting", "begun")

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        info = connection.info
        if info.parameter_status("standard_conforming_strings") != "on" or info.encoding != "utf-8":
            raise RuntimeError("statements are batched only with standard_conforming_strings on and UTF-8")
        self._prepared = _prepared.setdefault(connection, set())
        self._fallback: Any = None
        self._pending: list[str] = []
        self._waiting: list[tuple[int, Later]] = []  # (index in _pending, the Later to fill)
        self._done: list[Callable[[bool], None]] = []
        self.begun = False

    def when_done(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(True)`` once the COMMIT is answered, ``callback(False)`` if the
        transaction fails (``failed``): for what the client keeps about committed data."""
        self._done.append(callback)

    def add(self, sql: str, params: Any, later: Later | None = None) -> None:
        """Keep a statement for the next message; ``later`` gets its rows when that is answered."""
        name, prepare, order = _shape(sql)
        if name not in self._prepared:
            self._connection.execute(prepare, prepare=False)  # once per connection and shape
            self._prepared.add(name)
        if not self.begun:
            self._pending.append("BEGIN")
            self.begun = True
        if later is not None:
            self._waiting.append((len(self._pending), later))
        if not order:
            self._pending.append(f"EXECUTE {name}")
            return
        values = [self._literal(params[key]) for key in order]
        self._pending.append(f"EXECUTE {name}({', '.join(values)})")

    def _literal(self, value: Any) -> str:
        written = literal(value)
        if written is not None:
            return written
        if self._fallback is None:
            from psycopg import ClientCursor

            self._fallback = ClientCursor(self._connection)
        return str(self._fallback.mogrify("%s", (value,)))

    def answer(self, sql: str, params: Any) -> Any:
        """Send what is kept and this statement; returns a cursor on this statement's answer."""
        self.add(sql, params)
        return self.flush()

    def flush(self) -> Any:
        """Send what is kept as one query (nothing kept: None); returns a cursor on the last answer."""
        if not self._pending:
            return None
        text, waiting, last = ";\n".join(self._pending), self._waiting, len(self._pending) - 1
        self._pending, self._waiting = [], []
        cursor = self._connection.cursor()
        try:
            cursor.execute(text)  # no parameters: the simple protocol, several statements allowed
            at = 0
            for index, later in waiting:
                while at < index:
                    cursor.nextset()
                    at += 1
                later._fill(cursor.fetchall())
            while at < last:
                cursor.nextset()
                at += 1
        except BaseException:
            cursor.close()
            raise
        return cursor

    def finish(self) -> None:
        """Commit: what is still kept goes out with the ``COMMIT``."""
        if self.begun:
            self._pending.append("COMMIT")
            close(self.flush())
            self.begun = False
        self._settle(True)

    def failed(self) -> None:
        """The transaction was rolled back, or its outcome is unknown."""
        self._settle(False)

    def _settle(self, committed: bool) -> None:
        done, self._done = self._done, []
        for callback in done:
            callback(committed)


def close(cursor: Any) -> None:
    if cursor is not None:
        cursor.close()
