"""The draw (双随机), version 1: a pure function of (snapshot, seed).

No session, no clock, no Flask. Everything the draw depends on is in the snapshot, so anyone
holding the snapshot and the seed gets the same result (``chayici draw verify`` does exactly
that). docs/draw-and-dispatch.md describes the steps in prose; this module is the definition.

Snapshot (JSON object, hashed in canonical form):

    {"algorithm": 1, "kind": "full" | "slot" | "replacement", "params": {...}, ...}

full / slot:
    params: count, per_object, min_per_unit, mode ("even" | "cross_office"), units (ordered),
            unit_tags {unit: [tags]}, days [ISO dates], load_cap, weights {stratum: "decimal"},
            first_slot (1-based number of the first slot, for messages)
    objects: {"ids": "3,5,8,..." (ascending), "strata": "DAAB..." (one letter per id),
              "exclude": [ids already in other slots]}
    details: {"<object id>": {"jur": unit id or null}} for every drawn object
    inspectors: [[id, unit, [tags]], ...] ascending id (certified over the whole window)
    conflicts: [[inspector, object], ...]
    load: [[inspector, day, teams], ...] teams already held on that day (other tasks/slots)

replacement:
    params: object, jur, day, unit, tags, mode, load_cap, team [ids kept], exclude [ids], slot
    inspectors, conflicts, load as above (one unit)

Steps of a full draw:
1. Objects. Count the pool per stratum (risk class A-D, U unknown, F flagged). Split ``count``
   over the strata in proportion to (available objects x weight), capped at what a stratum has,
   remainders to the largest fractions (ties: F, D, C, B, A, U, then others alphabetically).
   Exact rational arithmetic, no floats. In each stratum draw ranks with ``randbelow`` from the
   stream ``objects/<stratum>`` until enough distinct, not excluded objects are found.
   Slots are the drawn objects in ascending id; slot i is planned for days[i * len(days) // n].
2. Teams. Each unit's inspectors are shuffled with the stream ``team/<unit>`` and then stably
   sorted by the teams they already hold in the window (least loaded first); each unit keeps a
   rotating pointer (round-robin), so load spreads evenly. For every slot, first take
   ``min_per_unit`` eligible inspectors from each unit in ``units`` order, then fill up to
   max(2, per_object) taking one from each unit in turn, starting at unit (slot index mod units).
   Eligible: holds the unit's tags, no declared conflict with the object, not of the object's
   jurisdiction unit in cross_office mode, fewer than ``load_cap`` teams that day, not already
   in the team. If a unit cannot supply someone, the draw stops with ``Shortage``: nothing drawn.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from handlers.draw.rng import Stream

ALGORITHM_VERSION = 1
MIN_TEAM = 2  # BR-04: never fewer than two inspectors (行政处罚法 art. 42)
STRATUM_ORDER = "FDCBAU"
_BLOCK = 1024
REASON_ORDER = ("in_team", "excluded", "tags", "conflict", "jurisdiction", "load")


class DrawError(Exception):
    """The draw cannot be made from this snapshot. Nothing is drawn."""


@dataclass
class PoolTooSmall(DrawError):
    needed: int
    available: int

    def __str__(self) -> str:
        return f"pool has {self.available} drawable objects, {self.needed} needed"


@dataclass
class Shortage(DrawError):
    """A slot's team cannot be completed. ``unit`` None means the team as a whole is short."""

    slot: int
    object_id: int
    day: str
    unit: int | None
    needed: int
    available: int
    reasons: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        who = f"unit {self.unit}" if self.unit is not None else "the team"
        return (
            f"slot {self.slot} (object {self.object_id}, {self.day}): {who} needs {self.needed}, "
            f"has {self.available}; excluded {self.reasons}"
        )


# -- objects ------------------------------------------------------------------------------------
class ObjectPool:
    """The object pool as two parallel texts: comma-separated ids and one stratum letter each.

    Kept as text because that is how the database hands it over fastest, and never split into
    a million small strings: ``nth`` finds the r-th object of a stratum through per-block letter
    counts, and ``id_at`` the i-th id through per-block comma counts.
    """

    def __init__(self, ids_csv: str, strata: str) -> None:
        self.text = ids_csv
        self.strata = strata
        self.size = ids_csv.count(",") + 1 if ids_csv else 0
        if self.size != len(strata):
            raise DrawError(f"pool has {self.size} ids but {len(strata)} strata")
        self._cumulative: dict[str, list[int]] = {}
        self._commas: list[int] = []  # commas before each block of the id text

    def __len__(self) -> int:
        return self.size

    def counts(self) -> dict[str, int]:
        counts = {letter: self.strata.count(letter) for letter in STRATUM_ORDER}
        if sum(counts.values()) != len(self.strata):
            counts.update({letter: self.strata.count(letter) for letter in set(self.strata)})
        return {letter: n for letter, n in counts.items() if n}

    def id_at(self, index: int) -> int:
        """The id at position ``index`` (0-based) of the pool."""
        text = self.text
        if not self._commas:
            total = 0
            for start in range(0, len(text), _BLOCK):
                self._commas.append(total)
                total += text.count(",", start, start + _BLOCK)
        if index == 0:
            start = 0
        else:
            block = bisect.bisect_left(self._commas, index) - 1
            position = block * _BLOCK - 1
            for _ in range(index - self._commas[block]):
                position = text.index(",", position + 1)
            start = position + 1
        end = text.find(",", start)
        return int(text[start : end if end != -1 else len(text)])

    def position(self, object_id: int) -> int | None:
        """Where ``object_id`` is in the pool (ids ascend), or None if it is not in it."""
        low, high = 0, self.size
        while low < high:
            middle = (low + high) // 2
            if self.id_at(middle) < object_id:
                low = middle + 1
            else:
                high = middle
        return low if low < self.size and self.id_at(low) == object_id else None

    def nth(self, stratum: str, rank: int) -> int:
        """The id of the ``rank``-th (0-based) object of ``stratum`` in pool order."""
        cumulative = self._cumulative.get(stratum)
        if cumulative is None:
            cumulative, total = [], 0
            for start in range(0, len(self.strata), _BLOCK):
                cumulative.append(total)
                total += self.strata.count(stratum, start, start + _BLOCK)
            self._cumulative[stratum] = cumulative
        block = bisect.bisect_right(cumulative, rank) - 1
        position = block * _BLOCK - 1
        for _ in range(rank - cumulative[block] + 1):
            position = self.strata.index(stratum, position + 1)
        return self.id_at(position)


def stratum_key(stratum: str) -> tuple[int, str]:
    index = STRATUM_ORDER.find(stratum)
    return (index if index >= 0 else len(STRATUM_ORDER), stratum)


def allocate(count: int, available: dict[str, int], weights: dict[str, Fraction]) -> dict[str, int]:
    """Split ``count`` over strata in proportion to available x weight, capped at available."""
    open_strata = sorted(
        (s for s, n in available.items() if n > 0 and weights.get(s, Fraction(1)) > 0), key=stratum_key
    )
    total_available = sum(available[s] for s in open_strata)
    if count > total_available:
        raise PoolTooSmall(needed=count, available=total_available)
    fixed: dict[str, int] = {}
    while True:
        free = [s for s in open_strata if s not in fixed]
        remaining = count - sum(fixed.values())
        mass = sum((available[s] * weights.get(s, Fraction(1)) for s in free), Fraction(0))
        if remaining == 0 or not free or mass == 0:
            return {s: fixed.get(s, 0) for s in open_strata if fixed.get(s, 0)}
        quotas = {s: remaining * available[s] * weights.get(s, Fraction(1)) / mass for s in free}
        full = [s for s in free if quotas[s] >= available[s]]
        if full:
            fixed.update({s: available[s] for s in full})
            continue
        shares = {s: int(quotas[s]) for s in free}  # floor: quotas are non-negative
        left = remaining - sum(shares.values())
        by_fraction = sorted(free, key=lambda s: (-(quotas[s] - shares[s]), stratum_key(s)))
        for s in by_fraction[:left]:
            shares[s] += 1
        shares.update(fixed)
        return {s: n for s, n in sorted(shares.items(), key=lambda item: stratum_key(item[0])) if n}


def draw_objects(
    pool: ObjectPool, count: int, weights: dict[str, Fraction], exclude: Iterable[int], seed: str
) -> tuple[list[tuple[int, str]], dict[str, int]]:
    """Stratified sampling without replacement: ([(object id, stratum)] ascending, allocation)."""
    excluded = set(exclude)
    totals = pool.counts()
    available = dict(totals)
    for object_id in excluded:
        position = pool.position(object_id)
        if position is not None:
            available[pool.strata[position]] -= 1
    shares = allocate(count, available, weights)
    picked: list[tuple[int, str]] = []
    for stratum, need in shares.items():
        stream = Stream(seed, f"objects/{stratum}")
        seen: set[int] = set()
        got = 0
        while got < need:
            rank = stream.randbelow(totals[stratum])
            if rank in seen:
                continue
            seen.add(rank)
            object_id = pool.nth(stratum, rank)
            if object_id in excluded:
                continue
            picked.append((object_id, stratum))
            got += 1
    return sorted(picked), shares


# -- inspectors ---------------------------------------------------------------------------------
@dataclass
class TeamRules:
    """What makes an inspector eligible for one slot."""

    tags: dict[int, frozenset[str]]  # unit -> tags its items need
    inspector_unit: dict[int, int]
    inspector_tags: dict[int, frozenset[str]]
    conflicts: set[tuple[int, int]]
    load: dict[tuple[int, str], int]
    load_cap: int
    cross_office: bool
    excluded: frozenset[int] = frozenset()

    def reason(
        self, inspector: int, object_id: int, jur: int | None, day: str, team: list[int]
    ) -> str | None:
        """Why the inspector cannot join this team (None = eligible). Order is REASON_ORDER."""
        unit = self.inspector_unit[inspector]
        if inspector in team:
            return "in_team"
        if inspector in self.excluded:
            return "excluded"
        if not self.tags.get(unit, frozenset()) <= self.inspector_tags[inspector]:
            return "tags"
        if (inspector, object_id) in self.conflicts:
            return "conflict"
        if self.cross_office and jur is not None and unit == jur:
            return "jurisdiction"
        if self.load.get((inspector, day), 0) >= self.load_cap:
            return "load"
        return None

    def explain(
        self, members: list[int], object_id: int, jur: int | None, day: str, team: list[int]
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        for inspector in members:
            why = self.reason(inspector, object_id, jur, day, team)
            if why is not None:
                counts[why] = counts.get(why, 0) + 1
        return {key: counts[key] for key in REASON_ORDER if key in counts}


def _rules(snapshot: dict[str, Any], params: dict[str, Any], exclude: Iterable[int] = ()) -> TeamRules:
    inspectors = snapshot.get("inspectors", [])
    return TeamRules(
        tags={int(unit): frozenset(tags) for unit, tags in params.get("unit_tags", {}).items()},
        inspector_unit={int(i): int(u) for i, u, _ in inspectors},
        inspector_tags={int(i): frozenset(t) for i, _, t in inspectors},
        conflicts={(int(i), int(o)) for i, o in snapshot.get("conflicts", [])},
        load={(int(i), str(d)): int(n) for i, d, n in snapshot.get("load", [])},
        load_cap=int(params["load_cap"]),
        cross_office=params.get("mode") == "cross_office",
        excluded=frozenset(int(i) for i in exclude),
    )


def _unit_orders(units: list[int], rules: TeamRules, seed: str, label: str) -> dict[int, list[int]]:
    """Each unit's inspectors: seeded shuffle, then least loaded first (stable)."""
    held: dict[int, int] = {}
    for (inspector, _day), teams in rules.load.items():
        held[inspector] = held.get(inspector, 0) + teams
    orders: dict[int, list[int]] = {}
    for unit in units:
        members = sorted(i for i, u in rules.inspector_unit.items() if u == unit)
        Stream(seed, f"{label}/{unit}").shuffle(members)
        members.sort(key=lambda i: held.get(i, 0))
        orders[unit] = members
    return orders


class _Teams:
    """Builds teams slot by slot; keeps each unit's rotating pointer and the running load."""

    def __init__(self, snapshot: dict[str, Any], units: list[int], rules: TeamRules, seed: str) -> None:
        self.units = units
        self.rules = rules
        self.orders = _unit_orders(units, rules, seed, "team")
        self.pointers = dict.fromkeys(units, 0)

    def pick(self, unit: int, object_id: int, jur: int | None, day: str, team: list[int]) -> bool:
        """Add the next eligible inspector of ``unit`` (round-robin) to ``team``."""
        order = self.orders[unit]
        for step in range(len(order)):
            at = (self.pointers[unit] + step) % len(order)
            inspector = order[at]
            if self.rules.reason(inspector, object_id, jur, day, team) is None:
                team.append(inspector)
                self.rules.load[(inspector, day)] = self.rules.load.get((inspector, day), 0) + 1
                self.pointers[unit] = at + 1
                return True
        return False


def staff_teams(snapshot: dict[str, Any], slots: list[tuple[int, str]], seed: str) -> list[list[int]]:
    """A team for every (object, day) slot, or ``Shortage`` for the first slot that cannot be staffed."""
    params = snapshot["params"]
    units = [int(u) for u in params["units"]]
    rules = _rules(snapshot, params)
    details = snapshot.get("details", {})
    builder = _Teams(snapshot, units, rules, seed)
    min_per_unit = int(params.get("min_per_unit", 1))
    target_size = max(MIN_TEAM, int(params["per_object"]))
    first_slot = int(params.get("first_slot", 1))
    teams: list[list[int]] = []
    for index, (object_id, day) in enumerate(slots):
        if str(object_id) not in details:
            raise DrawError(f"snapshot lacks the details of drawn object {object_id}")
        jur = details[str(object_id)].get("jur")
        team: list[int] = []
        for unit in units:
            for _ in range(min_per_unit):
                if not builder.pick(unit, object_id, jur, day, team):
                    raise Shortage(
                        slot=first_slot + index,
                        object_id=object_id,
                        day=day,
                        unit=unit,
                        needed=min_per_unit,
                        available=sum(1 for i in team if rules.inspector_unit[i] == unit),
                        reasons=rules.explain(builder.orders[unit], object_id, jur, day, team),
                    )
        size = max(target_size, len(team))
        start = index % len(units) if units else 0
        while len(team) < size:
            progressed = False
            for step in range(len(units)):
                if len(team) >= size:
                    break
                unit = units[(start + step) % len(units)]
                progressed = builder.pick(unit, object_id, jur, day, team) or progressed
            if not progressed:
                everyone = [i for unit in units for i in builder.orders[unit]]
                raise Shortage(
                    slot=first_slot + index,
                    object_id=object_id,
                    day=day,
                    unit=None,
                    needed=size,
                    available=len(team),
                    reasons=rules.explain(everyone, object_id, jur, day, team),
                )
        teams.append(team)
    return teams


# -- entry points -------------------------------------------------------------------------------
def weights_of(params: dict[str, Any]) -> dict[str, Fraction]:
    return {stratum: Fraction(str(value)) for stratum, value in params.get("weights", {}).items()}


def draw_slots(snapshot: dict[str, Any], seed: str) -> dict[str, Any]:
    """Phase 1 only: which objects, on which days (used to know whose details to load)."""
    params = snapshot["params"]
    if int(params["count"]) < 1:
        raise DrawError("nothing to draw: count must be at least 1")
    objects = snapshot["objects"]
    pool = ObjectPool(objects.get("ids", ""), objects.get("strata", ""))
    picked, shares = draw_objects(
        pool, int(params["count"]), weights_of(params), objects.get("exclude", []), seed
    )
    days = [str(day) for day in params["days"]]
    if not days:
        raise DrawError("no day to plan the inspections on")
    if not picked:
        raise PoolTooSmall(needed=int(params["count"]), available=0)
    slots = [
        {"object": object_id, "stratum": stratum, "day": days[i * len(days) // len(picked)]}
        for i, (object_id, stratum) in enumerate(picked)
    ]
    return {"slots": slots, "allocation": shares}


def draw(snapshot: dict[str, Any], seed: str) -> dict[str, Any]:
    """Run the draw a snapshot describes. The result is what ``draw_record.result`` stores."""
    version = snapshot.get("algorithm")
    if version != ALGORITHM_VERSION:
        raise DrawError(f"unknown draw algorithm version {version!r}")
    kind = snapshot.get("kind")
    if kind == "replacement":
        return {"inspector": draw_replacement(snapshot, seed)}
    if kind not in ("full", "slot"):
        raise DrawError(f"unknown draw kind {kind!r}")
    return staff(snapshot, draw_slots(snapshot, seed), seed)


def staff(snapshot: dict[str, Any], phase: dict[str, Any], seed: str) -> dict[str, Any]:
    """Phase 2: add a team to every slot of ``phase`` (the output of ``draw_slots``)."""
    teams = staff_teams(snapshot, [(s["object"], s["day"]) for s in phase["slots"]], seed)
    slots = [{**slot, "team": team} for slot, team in zip(phase["slots"], teams, strict=True)]
    return {"slots": slots, "allocation": dict(phase["allocation"])}


def draw_replacement(snapshot: dict[str, Any], seed: str) -> int:
    """One inspector of ``params.unit`` to replace a decliner, under the same rules."""
    params = snapshot["params"]
    unit = int(params["unit"])
    object_id, jur, day = int(params["object"]), params.get("jur"), str(params["day"])
    rules = _rules(
        snapshot, {**params, "unit_tags": {str(unit): params.get("tags", [])}}, params.get("exclude", [])
    )
    team = [int(i) for i in params.get("team", [])]
    order = _unit_orders([unit], rules, seed, "replacement")[unit]
    for inspector in order:
        if rules.reason(inspector, object_id, jur, day, team) is None:
            return inspector
    raise Shortage(
        slot=int(params.get("slot", 0)),
        object_id=object_id,
        day=day,
        unit=unit,
        needed=1,
        available=0,
        reasons=rules.explain(order, object_id, jur, day, team),
    )
