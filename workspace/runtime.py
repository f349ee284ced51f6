"""The running workspace: config + state + ids + knobs, shared by every blueprint.

Stored in ``app.extensions["workspace"]``. Code that runs outside a request (redelivery timers,
the server) gets it passed explicitly; views use ``current()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import current_app, has_request_context, request

from workspace.config import API_FAMILIES, WorkspaceConfig
from workspace.faults import FaultPlan
from workspace.ids import IdFactory
from workspace.state import State


class Workspace:
    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config
        self.state = State()
        self.ids = IdFactory(config.rng_seed)
        self.faults = FaultPlan()
        self.qps: dict[str, int] = {family: config.qps.get(family, 20) for family in API_FAMILIES}
        self.throttle_status = config.throttle_status
        self.base_url: str | None = config.public_base_url.rstrip("/") if config.public_base_url else None
        self._timers: list[threading.Timer] = []
        self._timers_lock = threading.Lock()

    def now_ms(self) -> int:
        return int(self.config.clock()) + self.state.clock_offset_ms

    def own_base_url(self) -> str:
        """The workspace's URL as the bot must call it (sessionWebhook, downloadUrl)."""
        if self.base_url:
            return self.base_url
        if has_request_context():
            return request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def reset(self) -> None:
        self.cancel_timers()
        self.state.clear()
        self.faults.reset()
        self.qps = {family: self.config.qps.get(family, 20) for family in API_FAMILIES}
        self.throttle_status = self.config.throttle_status

    # -- background work (redelivery) -----------------------------------------------------------
    def schedule(self, delay_s: float, work: Callable[[], object]) -> None:
        timer = threading.Timer(max(0.0, delay_s), work)
        timer.daemon = True
        with self._timers_lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def cancel_timers(self) -> None:
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
            self._timers = []


def current() -> Workspace:
    return current_app.extensions["workspace"]
