"""``chayici demo`` starts, serves the workspace, answers a posted task, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent


def _tasks_in_database_file(path: Path) -> int:
    """Tasks in the SQLite file itself, its log ignored; 0 while a checkpoint is writing it."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM task").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0
    finally:
        connection.close()


@pytest.mark.slow
def test_demo_runs_the_readme_walk_start_and_stops_cleanly(tmp_path):
    bot_port, ws_port = free_port(), free_port()
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAYICI_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chayici.cli",
            "demo",
            "--data-dir",
            str(data_dir),
            "--bot-port",
            str(bot_port),
            "--workspace-port",
            str(ws_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "演示环境已启动" in output, output
        command = next(line.strip() for line in lines if line.strip().startswith("发起检查"))
        workspace = f"http://127.0.0.1:{ws_port}"
        description = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
        joint = next(g for g in description["groups"] if g["purpose"] == "joint")
        said = requests.post(
            f"{workspace}/_ws/say",
            json={
                "staffId": joint["owner_staff_id"],
                "conversationId": joint["conversation_id"],
                "text": command,
            },
            timeout=20,
        ).json()
        assert said["status"] == 200
        card = None
        for _ in range(100):
            cards = requests.get(f"{workspace}/_ws/cards", timeout=5).json()["cards"]
            card = next((c for c in cards if c["templateKey"] == "task_card"), None)
            if card:
                break
            time.sleep(0.1)
        assert card is not None, "the task card never reached the workspace"
        assert "丽综执" in card["params"]["title"]
        page = requests.get(f"{workspace}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        # The demo's worker copies SQLite's log into the database file while it runs
        # (storage/checkpoint.py): the file alone soon holds the task just posted.
        tasks = 0
        for _ in range(100):
            tasks = _tasks_in_database_file(data_dir / "chayici.db")
            if tasks > 0:
                break
            time.sleep(0.1)
        assert tasks > 0, "the posted task never reached the database file"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0
