"""Configuration of the local DingTalk-compatible workspace.

The defaults match the bot's own defaults (``CHAYICI_APP_KEY`` etc.), so ``chayici demo`` works
without any setting. Everything that depends on time reads ``clock`` (milliseconds), so tests can
freeze or advance time without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

API_FAMILIES = ("robot", "card", "oapi")


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _default_qps() -> dict[str, int]:
    return dict.fromkeys(API_FAMILIES, 20)


@dataclass(frozen=True)
class WorkspaceConfig:
    """What the fake platform needs to know about the one app (robot) it serves."""

    app_key: str = "dingchayicidemo"
    app_secret: str = "chayici-demo-app-secret"
    robot_code: str = "dingchayicidemo"
    corp_id: str = "dingchayicicorp"
    agent_id: int = 100001
    # Where the bot listens: callbacks go to {bot_base_url}/dingtalk/robot and /dingtalk/card.
    bot_base_url: str = "http://127.0.0.1:8000"
    # The workspace's own URL for sessionWebhook / downloadUrl. None: learnt when the port is
    # bound (WorkspaceServer) or taken from the incoming request's host.
    public_base_url: str | None = None
    # Token lifetime in seconds (v1.0 expireIn and oapi expires_in).
    token_ttl: int = 7200
    # Calls per sliding second for each API family ("robot", "card", "oapi").
    qps: dict[str, int] = field(default_factory=_default_qps)
    # HTTP status of a QPS rejection: 403 (most real logs) or 429 (one report).
    throttle_status: int = 403
    # Custom (webhook) robots: 20 messages per minute, then blocked for 10 minutes.
    custom_robot_per_minute: int = 20
    custom_robot_block_s: int = 600
    # Allowed |now - timestamp| for a custom robot's signed URL.
    custom_robot_sign_window_ms: int = 3_600_000
    session_webhook_ttl_ms: int = 5_400_000
    # Work notifications: messages per user per day for an enterprise-internal app.
    work_notice_daily_cap: int = 500
    # Milliseconds since the epoch. Injectable so tests control time.
    clock: Callable[[], int] = wall_clock_ms
    # Seed for generated ids. None: a fresh random seed, so a restarted demo never reuses a
    # msgId the bot has already stored (it would be dropped as a duplicate).
    rng_seed: int | None = None
    # (connect, read) timeouts of the callbacks the workspace sends to the bot.
    callback_timeout: tuple[float, float] = (3.05, 10.0)
    # Deliver a message the bot returns in the body of a robot callback (legacy, UNCONFIRMED).
    deliver_sync_replies: bool = True
    # The robot's display name on the phone page (DingTalk shows the robot's name, not its code).
    bot_name: str = "查一次"

    @property
    def robot_callback_url(self) -> str:
        return f"{self.bot_base_url.rstrip('/')}/dingtalk/robot"

    @property
    def card_callback_url(self) -> str:
        return f"{self.bot_base_url.rstrip('/')}/dingtalk/card"
