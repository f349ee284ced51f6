"""Fixtures: the hand-made world and data set, in the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.services import Services
from tests.oversight import dataset
from tests.oversight.world import World, build


@dataclass
class Loaded:
    units: dict[str, int]
    bureau: int
    person: int
    handles: dataset.Handles


def load(services: Services, with_data: bool = True) -> Loaded:
    with services.db.write() as session:
        world: World = build(session, services.audit_log)
        handles = dataset.week49(world) if with_data else dataset.Handles({}, {}, {})
        return Loaded(dict(world.units), world.bureau, world.person, handles)


@pytest.fixture
def week49(services: Services) -> Loaded:
    return load(services)


def by_name(figures: Any, loaded: Loaded) -> dict[str, Any]:
    """{"A": unit figures, ..., "bureau": bureau figures} from a Figures or its JSON."""
    data = figures if isinstance(figures, dict) else figures.to_json()
    found = {key: next(u for u in data["units"] if u["id"] == uid) for key, uid in loaded.units.items()}
    found["bureau"] = data["bureau"]
    return found
