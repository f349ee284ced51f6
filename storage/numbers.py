"""Readable numbers for tasks and documents: ``{issuer}{code}〔{year}〕{seq}号``.

A number is allocated atomically per (issuer, code, year): the counter row is updated with
``UPDATE ... RETURNING`` inside the caller's transaction, so two transactions at the same moment
get different numbers (the row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite). Numbers are never
reused: a voided document keeps its number.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.models.tasks import NumberCounter
from storage.upsert import insert_ignore

DEFAULT_PATTERN = "{issuer}{code}〔{year}〕{seq}号"


def allocate(session: Session, *, issuer: str, code: str, year: int) -> int:
    return allocate_block(session, issuer=issuer, code=code, year=year, count=1)[0]


def allocate_block(session: Session, *, issuer: str, code: str, year: int, count: int) -> list[int]:
    """``count`` consecutive numbers in one statement (many documents issued in one event)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    insert_ignore(
        session,
        NumberCounter,
        {"issuer": issuer, "code": code, "year": year, "last_seq": 0},
        conflict_column=("issuer", "code", "year"),
    )
    statement = (
        update(NumberCounter)
        .where(NumberCounter.issuer == issuer, NumberCounter.code == code, NumberCounter.year == year)
        .values(last_seq=NumberCounter.last_seq + count)
        .returning(NumberCounter.last_seq)
    )
    last = int(session.execute(statement).scalar_one())
    return list(range(last - count + 1, last + 1))


def format_number(pattern: str, *, issuer: str, code: str, year: int, seq: int) -> str:
    return pattern.format(issuer=issuer, code=code, year=year, seq=seq)
