"""A sampling profiler that counts CPU time, not waits: a ``SIGPROF`` interval timer fires only
while the process runs (``ITIMER_PROF``), and each firing records the main thread's stack.

cProfile's per-call bookkeeping inflated this project's many small Python calls about fourfold,
and py-spy counted time blocked in the database driver's waits as busy; this neither. Time spent
in C (the driver, the JSON encoder) is charged to the Python line that called it. Linux only."""

from __future__ import annotations

import collections
import os
import signal
from collections.abc import Callable
from types import FrameType
from typing import TextIO

_samples: collections.Counter[tuple[str, ...]] = collections.Counter()


def _record(_signum: int, frame: FrameType | None) -> None:
    stack: list[str] = []
    while frame is not None:
        code = frame.f_code
        stack.append(f"{code.co_name} ({os.path.basename(code.co_filename)}:{frame.f_lineno})")
        frame = frame.f_back
    _samples[tuple(reversed(stack))] += 1


def sample(run: Callable[[], object], *, interval: float = 0.0002) -> None:
    """Run ``run`` with the timer on (the kernel's tick bounds the real rate)."""
    _samples.clear()
    previous = signal.signal(signal.SIGPROF, _record)
    signal.setitimer(signal.ITIMER_PROF, interval, interval)
    try:
        run()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)


def report(below: str, out: TextIO, lines: int = 40) -> None:
    """Shares of the samples whose stack passes through a frame containing ``below``: each line
    inclusive (it or what it called), then by the line that was running (own)."""
    total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    files: collections.Counter[str] = collections.Counter()
    for stack, count in _samples.items():
        starts = [n for n, frame in enumerate(stack) if below in frame]
        if not starts:
            continue
        part = stack[starts[0] :]
        total += count
        own[part[-1]] += count
        files[part[-1].rsplit("(", 1)[-1].split(":", 1)[0]] += count
        for frame in set(part):
            inclusive[frame] += count
    print(f"CPU samples below {below!r}: {total}", file=out)
    for title, counts in (("inclusive", inclusive), ("own", own), ("own, by file", files)):
        print(f"--- {title}", file=out)
        for frame, count in counts.most_common(lines):
            print(f"{100 * count / max(total, 1):5.1f}% {frame}", file=out)
