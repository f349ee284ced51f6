"""The workspace on a real port, its overview page, and its import boundary."""

from __future__ import annotations

import ast
import base64
from pathlib import Path

import requests

from tests.workspace.support import APP_KEY, APP_SECRET

WORKSPACE = Path(__file__).resolve().parents[2] / "workspace"


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_server_serves_on_a_free_port_and_knows_its_own_url(ws_server, fake_bot):
    http = _http()
    assert ws_server.base_url == f"http://127.0.0.1:{ws_server.port}"
    http.post(f"{ws_server.base_url}/_ws/users", json=[{"staffId": "u1", "name": "甲"}], timeout=5)
    http.post(
        f"{ws_server.base_url}/_ws/say", json={"staffId": "u1", "private": True, "text": "hi"}, timeout=5
    )
    hook = fake_bot.requests[0]["json"]["sessionWebhook"]
    assert hook.startswith(f"{ws_server.base_url}/robot/sendBySession?session=")
    answer = http.post(hook, json={"msgtype": "text", "text": {"content": "收到"}}, timeout=5)
    assert answer.json() == {"errcode": 0, "errmsg": "ok"}
    assert ws_server.state.summary()["messages"] == 2


def test_download_url_is_fetchable_without_auth(ws_server, fake_bot):
    http = _http()
    base = ws_server.base_url
    http.post(f"{base}/_ws/users", json=[{"staffId": "u1", "name": "甲"}], timeout=5)
    http.post(
        f"{base}/_ws/send_media",
        json={
            "staffId": "u1",
            "private": True,
            "msgtype": "picture",
            "data_base64": base64.b64encode(b"img").decode(),
        },
        timeout=5,
    )
    code = fake_bot.requests[0]["json"]["content"]["downloadCode"]
    token = http.post(
        f"{base}/v1.0/oauth2/accessToken", json={"appKey": APP_KEY, "appSecret": APP_SECRET}, timeout=5
    )
    url = http.post(
        f"{base}/v1.0/robot/messageFiles/download",
        json={"robotCode": APP_KEY, "downloadCode": code},
        headers={"x-acs-dingtalk-access-token": token.json()["accessToken"]},
        timeout=5,
    ).json()["downloadUrl"]
    assert url.startswith(f"{base}/_files/")
    assert http.get(url, timeout=5).content == b"img"


def test_overview_page_lists_conversations_and_refreshes(ws_client, people):
    ws_client.post("/_ws/custom_robots", json=[{"conversationId": people["group"], "access_token": "t"}])
    ws_client.post(
        "/robot/send?access_token=t",
        json={"msgtype": "markdown", "markdown": {"title": "通报", "text": "<b>粗</b>"}},
    )
    page = ws_client.get("/plain")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "巡检一组" in html and "通报" in html
    assert "&lt;b&gt;粗&lt;/b&gt;" in html and "<b>粗</b>" not in html
    assert "<script" not in html and "http://" not in html.split("<body>", 1)[1]


def test_reset_forgets_everything(ws_client, people):
    assert ws_client.post("/_ws/reset").status_code == 200
    summary = ws_client.get("/_ws/state").get_json()
    assert summary["users"] == 0 and summary["conversations"] == {} and summary["calls"] == 0


def test_clock_knob_moves_platform_time(ws_client, ws_clock):
    answer = ws_client.post("/_ws/clock", json={"advance_ms": 1500}).get_json()
    assert answer == {"offsetMs": 1500, "nowMs": ws_clock.now_ms + 1500}


def test_workspace_imports_no_project_package_but_cards():
    forbidden = {"bot", "handlers", "storage", "chayici"}
    offences = []
    for path in WORKSPACE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offences += [f"{path.name}: {name}" for name in names if name.split(".")[0] in forbidden]
    assert offences == []
