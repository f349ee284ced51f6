"""Fault injection knobs for the platform paths (never for /_ws/*).

A fault is drawn before the call is handled, so a faulted call (other than "slow") has no effect
at all: nothing delivered, no card made. A client that retries therefore gets exactly-once
delivery only if it retries correctly. Draws come from a seeded RNG so a run can be repeated.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("5xx", "qps403", "errcode200", "html", "slow")


class FaultConfigError(ValueError):
    pass


@dataclass
class FaultPlan:
    failure_rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: list(FAULT_KINDS))
    slow_ms: int = 0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def configure(self, body: dict[str, Any]) -> None:
        rate = body.get("failure_rate", self.failure_rate)
        kinds = body.get("kinds", self.kinds)
        slow_ms = body.get("slow_ms", self.slow_ms)
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0.0 <= float(rate) <= 1.0:
            raise FaultConfigError("failure_rate must be a number between 0 and 1")
        if not isinstance(kinds, list) or not kinds or any(kind not in FAULT_KINDS for kind in kinds):
            raise FaultConfigError(f"kinds must be a non-empty subset of {list(FAULT_KINDS)}")
        if not isinstance(slow_ms, int) or isinstance(slow_ms, bool) or slow_ms < 0:
            raise FaultConfigError("slow_ms must be a non-negative integer")
        with self._lock:
            self.failure_rate = float(rate)
            self.kinds = list(kinds)
            self.slow_ms = slow_ms
            if "seed" in body:
                self.seed = body["seed"]
                self._rng = random.Random(self.seed)

    def reset(self) -> None:
        with self._lock:
            self.failure_rate, self.kinds, self.slow_ms, self.seed = 0.0, list(FAULT_KINDS), 0, None
            self._rng = random.Random()

    def draw(self) -> str | None:
        """The fault kind for this call, or None. No RNG is consumed while faults are off."""
        with self._lock:
            if self.failure_rate <= 0.0:
                return None
            if self._rng.random() >= self.failure_rate:
                return None
            return self._rng.choice(self.kinds)

    def pick(self, options: list[Any]) -> Any:
        with self._lock:
            return self._rng.choice(options)

    def as_json(self) -> dict[str, Any]:
        return {
            "failure_rate": self.failure_rate,
            "kinds": list(self.kinds),
            "slow_ms": self.slow_ms,
            "seed": self.seed,
        }
