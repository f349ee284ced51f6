"""Helpers for the workspace tests: a manual millisecond clock, a tiny recording "bot" served on a
loopback port (the workspace calls it over real HTTP), and small request shortcuts."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

APP_KEY = "dingTESTappkey0001"
APP_SECRET = "test-workspace-secret"
START_MS = 1_764_550_800_000  # 2025-12-01 09:00 in Beijing


class ManualClock:
    """Milliseconds that move only when a test says so."""

    def __init__(self, now_ms: int = START_MS) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


class FakeBot:
    """Records every request and answers with ``respond(path, json_body) -> (status, body)``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.respond: Callable[[str, Any], tuple[int, Any]] = lambda path, body: (200, {})
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = request.get_data()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = {"path": request.path, "headers": dict(request.headers), "raw": raw, "json": body}
        with self._lock:
            self.requests.append(record)
        status, answer = self.respond(request.path, body)
        response = Response(
            json.dumps(answer, ensure_ascii=False), status=status, mimetype="application/json"
        )
        return response(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()


def token_for(client: Any) -> str:
    response = client.post("/v1.0/oauth2/accessToken", json={"appKey": APP_KEY, "appSecret": APP_SECRET})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["accessToken"]


def oapi_token_for(client: Any) -> str:
    response = client.get("/gettoken", query_string={"appkey": APP_KEY, "appsecret": APP_SECRET})
    return response.get_json()["access_token"]


def messages(client: Any, cid: str) -> list[dict[str, Any]]:
    response = client.get(f"/_ws/conversations/{cid}/messages")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["messages"]
