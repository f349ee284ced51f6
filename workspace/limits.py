"""Sliding-window rate limits: per-API-family QPS and the custom-robot 20-per-minute rule.

Windows hold the admission times (ms from the injectable clock). A rejected call is not added:
DingTalk counts what it accepts, and a throttled call takes no effect.
"""

from __future__ import annotations

from collections import deque


def admit(window: deque[int], *, now_ms: int, span_ms: int, limit: int) -> bool:
    """Admit one call if fewer than ``limit`` were admitted in the last ``span_ms``."""
    while window and window[0] <= now_ms - span_ms:
        window.popleft()
    if len(window) >= limit:
        return False
    window.append(now_ms)
    return True


def admit_custom_robot(
    window: deque[int], blocked_until: int, *, now_ms: int, per_minute: int, block_ms: int
) -> tuple[bool, int]:
    """One custom-robot send. Returns (admitted, new blocked_until).

    The call that exceeds ``per_minute`` within 60 s starts a block of ``block_ms``; every call
    during the block is refused and does not extend it (the documented "10-minute" limit).
    """
    if now_ms < blocked_until:
        return False, blocked_until
    if admit(window, now_ms=now_ms, span_ms=60_000, limit=per_minute):
        return True, 0
    window.clear()
    return False, now_ms + block_ms
