"""What the in-process benches (``webhook_inprocess.py``, ``submit_inprocess.py``) share: their
arguments and the CPU profile of a run."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable


def arguments(doc: str | None, requests: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="PostgreSQL URL (schema public is reset)")
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


def profile(run: Callable[[], object]) -> None:
    """cProfile of ``run`` timed by CPU, not waits; ``PROF_SORT`` (tottime) and ``PROF_N`` (30)."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run()
    profiler.disable()
    pstats.Stats(profiler).sort_stats(os.environ.get("PROF_SORT", "tottime")).print_stats(
        int(os.environ.get("PROF_N", "30"))
    )
