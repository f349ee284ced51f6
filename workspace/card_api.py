"""Card instance OpenAPI (card_1_0, protocol §5.3): thin views over ``card_store``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response

from workspace import card_store
from workspace.card_store import CardError
from workspace.replies import ApiError, v1_body, v1_json
from workspace.runtime import current


def _card_errors(view: Callable[[], Response]) -> Callable[[], Response]:
    @wraps(view)
    def wrapper() -> Response:
        try:
            return view()
        except CardError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc

    return wrapper


@_card_errors
def create_instance() -> Response:
    card, _ = card_store.create(current(), v1_body(), deliver=False)
    return v1_json({"success": True, "result": card["outTrackId"]})


@_card_errors
def create_and_deliver() -> Response:
    card, results = card_store.create(current(), v1_body(), deliver=True)
    return v1_json({"success": True, "result": {"outTrackId": card["outTrackId"], "deliverResults": results}})


@_card_errors
def deliver() -> Response:
    return v1_json({"success": True, "result": card_store.deliver(current(), v1_body())})


@_card_errors
def update_instance() -> Response:
    card_store.update(current(), v1_body())
    return v1_json({"success": True, "result": True})


def register_callback() -> Response:
    """Register an HTTP callback route. The workspace records it but always calls the bot at
    ``{bot_base_url}/dingtalk/card`` (see docs/workspace.md)."""
    ws = current()
    body = v1_body()
    route_key, url = body.get("callbackRouteKey"), body.get("callbackUrl")
    if not route_key:
        raise ApiError(400, "param.callbackRouteKeyEmpty", "callbackRouteKey 不能为空")
    if not url:
        raise ApiError(400, "param.callbackUrlEmpty", "callbackUrl 不能为空")
    secret = body.get("apiSecret") or ws.ids.hex(32)
    route: dict[str, Any] = {"callbackRouteKey": route_key, "callbackUrl": url, "apiSecret": secret}
    with ws.state.lock:
        ws.state.card_routes[route_key] = route
    return v1_json({"success": True, "result": {"callbackUrl": url, "apiSecret": secret}})
