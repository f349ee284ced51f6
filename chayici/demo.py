"""``chayici demo``: the bot, its worker and ticker, and the local workspace, on loopback.

Everything runs in one process on a SQLite file under the data folder. The demo directory (units,
people, objects, scenarios, groups) is generated once and remembered in ``demo.json`` next to the
database, so a restart keeps the same people and group ids; ``--fresh`` starts over.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from werkzeug.serving import make_server

from bot.dingtalk.client import DingTalkClient
from bot.settings import Settings
from bot.ticker import Ticker
from bot.worker import run_workers
from chayici import build_app, build_services
from storage.migrate import upgrade
from workspace import WorkspaceConfig, WorkspaceServer

log = logging.getLogger("chayici.demo")


def workspace_config(settings: Settings, *, bot_url: str) -> WorkspaceConfig:
    return WorkspaceConfig(
        app_key=settings.app_key,
        app_secret=settings.app_secret.get_secret_value(),
        robot_code=settings.robot_code,
        corp_id=settings.corp_id,
        agent_id=settings.agent_id,
        bot_base_url=bot_url,
    )


def demo_settings(data_dir: Path, *, bot_url: str, workspace_url: str) -> Settings:
    return Settings(
        database_url=f"sqlite:///{data_dir / 'chayici.db'}",
        data_dir=data_dir,
        dingtalk_api_base=workspace_url,
        dingtalk_oapi_base=workspace_url,
        public_base_url=bot_url,
        ticker_interval_seconds=2.0,
    )


def _prepare(settings: Settings, data_dir: Path, fresh: bool) -> dict[str, Any]:
    """Create the schema and the demo directory once; return what the workspace must know."""
    from chayici.demo_data import build_demo_directory

    remembered = data_dir / "demo.json"
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    if not remembered.exists() and (data_dir / "chayici.db").exists():
        # A database without its demo description cannot be re-announced to the workspace.
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    services = build_services(settings)
    upgrade(services.db.engine)
    if remembered.exists():
        services.db.dispose()
        return dict(json.loads(remembered.read_text(encoding="utf-8")))
    with services.db.write() as session:
        directory = build_demo_directory(session, now=datetime.now(UTC), audit_log=services.audit_log)
        description = {
            "people": [asdict(person) for person in directory.people],
            "groups": [asdict(group) for group in directory.groups],
            "scenarios": list(directory.scenarios),
            "themes": list(directory.themes),
        }
    services.db.dispose()
    remembered.write_text(json.dumps(description, ensure_ascii=False, indent=1), encoding="utf-8")
    return description


def _announce(workspace_url: str, description: dict[str, Any]) -> None:
    """Register the demo's people and groups in the workspace (it keeps no state on disk)."""
    users = [
        {"staffId": p["staff_id"], "name": p["name"], "mobile": p["mobile"], "title": p["title"]}
        for p in description["people"]
    ]
    groups = [
        {
            "conversationId": g["conversation_id"],
            "title": g["title"],
            "members": list(g["member_staff_ids"]),
            "owner": g["owner_staff_id"],
        }
        for g in description["groups"]
    ]
    with requests.Session() as http:
        for path, body in (("/_ws/users", users), ("/_ws/groups", groups)):
            response = http.post(f"{workspace_url}{path}", json=body, timeout=10)
            response.raise_for_status()


def _guide(description: dict[str, Any], workspace_url: str, bot_url: str) -> str:
    people = description["people"]

    def first(role: str, unit: str | None = None) -> dict[str, Any] | None:
        for person in people:
            if role in person["roles"] and (unit is None or person["unit"] == unit):
                return person
        return None

    joint = next((g for g in description["groups"] if g["purpose"] == "joint"), description["groups"][0])
    lead = next((p for p in people if p["staff_id"] == joint["owner_staff_id"]), first("unit_admin"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start = today + timedelta(days=7)
    end = start + timedelta(days=4)
    line = f"发起检查 人行道 10家 {start.isoformat()}至{end.isoformat()} 实地核查"
    leader = first("leader")
    return "\n".join(
        [
            "",
            "综合查一次 演示环境已启动",
            f"  工作台（模拟钉钉）：{workspace_url}/",
            f"  机器人回调地址：    {bot_url}/dingtalk/robot",
            "",
            "在工作台中：",
            f"  1. 以「{lead['name'] if lead else '牵头单位管理员'}」身份进入「{joint['title']}」，@机器人 发送：",
            f"       {line}",
            "  2. 分别以各协同单位管理员身份，在任务卡片上点「同意」；",
            "  3. 回到牵头单位管理员，点「确认并报送审批」；",
            f"  4. 以「{leader['name'] if leader else '局领导'}」身份在与机器人的单聊里点「批准」。",
            "  随时发送「帮助」查看全部命令。按 Ctrl-C 停止。",
            "",
        ]
    )


def run_demo(*, host: str, bot_port: int, workspace_port: int, data_dir: str, fresh: bool) -> int:
    folder = Path(data_dir).resolve()
    bot_url = f"http://{host}:{bot_port}"
    workspace_url = f"http://{host}:{workspace_port}"
    settings = demo_settings(folder, bot_url=bot_url, workspace_url=workspace_url)
    description = _prepare(settings, folder, fresh)

    workspace = WorkspaceServer(
        workspace_config(settings, bot_url=bot_url), host=host, port=workspace_port
    ).start()
    services = build_services(settings)
    bot_server = make_server(host, bot_port, build_app(services), threaded=True)
    bot_thread = threading.Thread(target=bot_server.serve_forever, name="bot", daemon=True)
    bot_thread.start()
    _announce(workspace.base_url, description)

    stop = threading.Event()
    worker_threads = run_workers(services, lambda: DingTalkClient(settings), stop, name="demo-worker")
    ticker = Ticker(services)
    ticker.start()
    print(_guide(description, workspace.base_url, bot_url), flush=True)

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        with services.db.checkpointing(settings.sqlite_checkpoint_seconds):
            while not stop.wait(0.5):
                pass
    finally:
        print("正在停止……", flush=True)
        ticker.stop()
        for thread in worker_threads:
            thread.join(timeout=5)
        bot_server.shutdown()
        workspace.stop()
        services.db.dispose()
    return 0
