"""Child rows read with their parent row in one statement, as JSON (PostgreSQL).

The form's submission reads one record and, with it, its team, its evidence and up to two
versions. One statement per part cost a round trip each, and on PostgreSQL each round trip costs
both processes a wake-up and the driver its per-statement Python. Here each part is a correlated
subquery of the parent's statement returning its rows as one JSON value (``json_agg`` of
``json_build_array``), and ``Shape.decode`` turns that value back into the tuples
``storage.raw`` would have returned for the same columns: JSON carries dates and times as text,
so each value goes back through its column's Python type and result processor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, String, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement, FromClause


@dataclass(frozen=True)
class Shape:
    """The columns of one nested part: how to select them and how to read them back."""

    columns: tuple[ColumnElement[Any], ...]

    def array(self) -> ColumnElement[Any]:
        return func.json_build_array(*self.columns)

    def many(
        self, source: FromClause, *where: ColumnElement[bool], order_by: Sequence[ColumnElement[Any]] = ()
    ) -> ColumnElement[Any]:
        """Every matching row as a JSON array of arrays (NULL when none)."""
        element = aggregate_order_by(self.array(), *order_by) if order_by else self.array()
        return select(func.json_agg(element)).select_from(source).where(*where).scalar_subquery()

    def one(self, source: FromClause, *where: ColumnElement[bool]) -> ColumnElement[Any]:
        """The matching row as a JSON array (NULL when none; the caller's key makes it unique)."""
        return select(self.array()).select_from(source).where(*where).scalar_subquery()

    def decoder(self, dialect: Dialect) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """Turns one JSON array back into a typed tuple."""
        steps = tuple(_step(column, dialect) for column in self.columns)

        def decode(values: Sequence[Any]) -> tuple[Any, ...]:
            return tuple(
                value if step is None or value is None else step(value)
                for step, value in zip(steps, values, strict=True)
            )

        return decode


def _step(column: ColumnElement[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    kind = column.type
    process = kind._cached_result_processor(dialect, None)
    base = getattr(kind, "impl_instance", kind)
    if isinstance(base, DateTime):
        parse: Callable[[Any], Any] = datetime.fromisoformat
    elif isinstance(base, Date):
        parse = date.fromisoformat
    elif isinstance(base, Integer | String | Boolean):
        return process  # JSON carries these as they are
    else:  # JSON columns would need their own reading; none is read this way
        raise TypeError(f"{column} ({kind}) cannot be read from a nested JSON row")
    if process is None:
        return parse
    return lambda value: process(parse(value))
