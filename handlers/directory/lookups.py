"""Finding directory rows from what people type in a chat."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from handlers.directory import uscc
from handlers.directory.themes import short_name
from storage.models.directory import InspectionObject, Inspector, Theme
from storage.models.platform import Person


def find_objects(session: Session, query: str, *, limit: int = 10) -> tuple[list[InspectionObject], int]:
    """Objects matching a credit code (exact) or a part of the name; (first ``limit``, total)."""
    text = query.strip()
    code = uscc.normalise(text)
    if code and code.isascii() and code.isalnum() and len(code) in (uscc.LENGTH, uscc.LEGACY_LENGTH):
        rows = list(
            session.execute(
                select(InspectionObject).where(
                    or_(InspectionObject.uscc == code, InspectionObject.legacy_reg_no == code)
                )
            ).scalars()
        )
        return rows, len(rows)
    condition = InspectionObject.name.contains(text, autoescape=True)
    total = session.execute(select(func.count()).select_from(InspectionObject).where(condition)).scalar_one()
    rows = list(
        session.execute(
            select(InspectionObject)
            .where(condition)
            .order_by(InspectionObject.active.desc(), func.length(InspectionObject.name), InspectionObject.id)
            .limit(limit)
        ).scalars()
    )
    return rows, total


def find_themes(session: Session, query: str) -> list[Theme]:
    """Themes by exact name, short name (人行道) or a part of the name; exact matches win."""
    text = query.strip()
    themes = list(session.execute(select(Theme).where(Theme.active.is_(True)).order_by(Theme.id)).scalars())
    exact = [theme for theme in themes if text in (theme.name, short_name(theme.name))]
    if exact:
        return exact
    return [theme for theme in themes if text and text in theme.name]


def inspector_of(session: Session, person: Person) -> Inspector | None:
    return session.execute(select(Inspector).where(Inspector.person_id == person.id)).scalar_one_or_none()
