"""``chayici serve`` runs the app under gunicorn: health, metrics across workers, a signed callback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.signature import robot_sign
from storage.db import Database
from storage.migrate import upgrade
from tests.helpers import robot_body
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_serve_answers_health_metrics_and_a_signed_callback(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAYICI_", "PROMETHEUS_"))}
    env.update(
        {"CHAYICI_DATABASE_URL": url, "CHAYICI_APP_SECRET": "serve-secret", "CHAYICI_DATA_DIR": str(tmp_path)}
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "chayici.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                health = requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        assert health.json() == {"status": "ok", "database": "sqlite"}
        ts = str(int(time.time() * 1000))
        headers = {
            "timestamp": ts,
            "sign": robot_sign(ts, "serve-secret"),
            "Content-Type": "application/json",
        }
        for n in range(6):
            body = json.dumps(robot_body("帮助", msg_id=f"msgSERVE{n}==", created_ms=int(ts))).encode()
            assert (
                requests.post(f"{base}/dingtalk/robot", data=body, headers=headers, timeout=5).status_code
                == 200
            )
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        line = next(
            m
            for m in metrics.splitlines()
            if m.startswith("chayici_inbound_requests_total") and 'route="robot"' in m
        )
        assert float(line.rsplit(" ", 1)[1]) == 6.0  # summed over both workers
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
