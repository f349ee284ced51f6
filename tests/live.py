"""The bot and the local workspace on loopback, talking real HTTP both ways.

Scenario tests drive people through the workspace's ``/_ws`` API (it signs and posts the
callbacks as DingTalk would) and run the outbox worker, which calls the workspace's OpenAPI.
"""

from __future__ import annotations

import socket
from typing import Any

import requests

from bot.dingtalk.client import DingTalkClient
from bot.services import Services
from bot.ticker import Ticker
from bot.worker import OutboxWorker, drain
from chayici import build_app
from tests.conftest import LiveServer
from workspace import WorkspaceConfig, WorkspaceServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Live:
    def __init__(
        self, services: Services, *, ws_clock: Any = None, qps: dict[str, int] | None = None
    ) -> None:
        bot_port = free_port()
        # Links and pictures the bot hands out point at this bot, as in ``chayici demo``.
        services.settings = services.settings.model_copy(
            update={"public_base_url": f"http://127.0.0.1:{bot_port}"}
        )
        settings = services.settings
        if ws_clock is None:
            # One time for both sides, so signatures and "same day" rules agree with the bot.
            ws_clock = lambda: int(services.clock.now().timestamp() * 1000)  # noqa: E731
        config = WorkspaceConfig(
            app_key=settings.app_key,
            app_secret=settings.app_secret.get_secret_value(),
            robot_code=settings.robot_code,
            corp_id=settings.corp_id,
            agent_id=settings.agent_id,
            bot_base_url=f"http://127.0.0.1:{bot_port}",
            rng_seed=7,
            clock=ws_clock,
            **({"qps": qps} if qps is not None else {}),
        )
        self.workspace = WorkspaceServer(config).start()
        self.url = self.workspace.base_url
        self.services = services
        outbound = settings.model_copy(update={"dingtalk_api_base": self.url, "dingtalk_oapi_base": self.url})
        self.client = DingTalkClient(outbound)
        self.worker = OutboxWorker(services, self.client, worker_id="live-worker")
        self.ticker = Ticker(services)
        self.app = build_app(services)
        self.bot = LiveServer(self.app, port=bot_port).start()
        self.http = requests.Session()

    def close(self) -> None:
        self.bot.stop()
        self.workspace.stop()

    # -- set-up ------------------------------------------------------------------------------
    def ws(self, method: str, endpoint: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(
            method, f"{self.url}/_ws{endpoint}", json=body, params=params or None, timeout=30
        )
        assert response.status_code < 500, response.text
        return response.json()

    def users(self, *people: tuple[str, str]) -> None:
        self.ws("POST", "/users", [{"staffId": staff, "name": name} for staff, name in people])

    def group(self, title: str, members: list[str], conversation_id: str | None = None) -> str:
        body: dict[str, Any] = {"title": title, "members": members}
        if conversation_id:
            body["conversationId"] = conversation_id
        return str(self.ws("POST", "/groups", [body])["groups"][0]["conversationId"])

    # -- acting ------------------------------------------------------------------------------
    def say(self, staff: str, text: str, *, group: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"staffId": staff, "text": text}
        if group:
            body["conversationId"] = group
        else:
            body["private"] = True
        result = self.ws("POST", "/say", body)
        assert result.get("status") == 200, result
        return dict(result)

    def click(self, staff: str, out_track_id: str, action: str, **params: Any) -> dict[str, Any]:
        body = {
            "staffId": staff,
            "outTrackId": out_track_id,
            "actionId": action,
            "params": {k: str(v) for k, v in params.items()},
        }
        return dict(self.ws("POST", "/card_action", body))

    def send_media(
        self, staff: str, msgtype: str, data_base64: str, file_name: str, content_type: str, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "staffId": staff,
            "private": True,
            "msgtype": msgtype,
            "data_base64": data_base64,
            "fileName": file_name,
            "contentType": content_type,
            **extra,
        }
        return dict(self.ws("POST", "/send_media", body))

    # -- background --------------------------------------------------------------------------
    def drain(self, timeout: float = 20.0, *, wait: bool = True) -> int:
        return drain(self.worker, timeout=timeout, wait=wait)

    def tick(self) -> None:
        self.ticker.tick()

    # -- looking -----------------------------------------------------------------------------
    def calls(self, path: str = "") -> list[dict[str, Any]]:
        return list(self.ws("GET", "/calls", path=path)["calls"])

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(
            self.ws("GET", f"/conversations/{requests.utils.quote(conversation_id, safe='')}/messages")[
                "messages"
            ]
        )

    def private_cid(self, staff: str) -> str:
        for conversation in self.ws("GET", "/conversations")["conversations"]:
            if conversation["kind"] == "private" and staff in conversation["members"]:
                return str(conversation["conversationId"])
        raise KeyError(staff)

    def card(self, out_track_id: str) -> dict[str, Any]:
        return dict(self.ws("GET", f"/cards/{requests.utils.quote(out_track_id, safe='')}"))

    def cards(self) -> list[dict[str, Any]]:
        return list(self.ws("GET", "/cards")["cards"])
