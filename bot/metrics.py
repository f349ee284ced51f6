"""Prometheus metrics. Under gunicorn, multiprocess mode is used when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

INBOUND = Counter(
    "chayici_inbound_requests_total", "Inbound callbacks by route and status", ["route", "status"]
)
INBOUND_SECONDS = Histogram(
    "chayici_inbound_seconds",
    "Time to answer an inbound callback",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DUPLICATES = Counter(
    "chayici_inbound_duplicates_total", "Redelivered events answered from the inbox", ["route"]
)
OUTBOX_SENT = Counter("chayici_outbox_results_total", "Outbox sends by kind and result", ["kind", "result"])
TICKS = Counter("chayici_ticker_runs_total", "Ticker scans run", ["scan", "result"])


def render() -> tuple[bytes, str]:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
