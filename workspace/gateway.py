"""What sits in front of every platform path, as DingTalk's gateways do.

Order per call: draw a fault (a faulted call ends here, without effect) -> per-family QPS window
-> access-token check -> the view. Every platform call, accepted or not, is recorded with its
status and answer; v1.0 answers get ``x-acs-request-id`` / ``x-acs-trace-id`` headers whose id
also appears as ``requestid`` in error bodies.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from workspace.limits import admit
from workspace.replies import (
    ApiError,
    OapiError,
    dumps,
    html_throttle_page,
    oapi_error,
    oapi_json,
    qps_limited,
    v1_error,
)
from workspace.runtime import Workspace, current

TOKEN_HEADER = "x-acs-dingtalk-access-token"
SAFE_HEADERS = ("Content-Type", "Content-Length", "Accept", "User-Agent")
# Credentials never kept in the call record (query, form or top-level JSON fields).
SECRET_FIELDS = frozenset(
    {"access_token", "appSecret", "appsecret", "apiSecret", "client_secret", "clientSecret"}
)
MAX_RECORDED_TEXT = 4000


@dataclass(frozen=True)
class Route:
    api: str  # "v1" (api.dingtalk.com) or "oapi" (oapi.dingtalk.com)
    family: str | None  # QPS family: "robot", "card", "oapi" or None
    auth: str | None  # "header", "query" or None


def classify(path: str) -> Route | None:
    """Which platform a path belongs to; None for the workspace's own paths."""
    if path.startswith("/v1.0/"):
        if path == "/v1.0/oauth2/accessToken":
            return Route("v1", None, None)
        if path.startswith("/v1.0/robot/"):
            return Route("v1", "robot", "header")
        if path.startswith("/v1.0/card/"):
            return Route("v1", "card", "header")
        return Route("v1", None, "header")
    if path.startswith(("/topapi/", "/media/")):
        return Route("oapi", "oapi", "query")
    if path == "/gettoken" or path.startswith("/robot/"):
        return Route("oapi", None, None)
    return None


def install(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(OapiError, _oapi_error)
    app.register_error_handler(HTTPException, _http_error)


def _before() -> Response | None:
    route = classify(request.path)
    if route is None:
        return None
    ws = current()
    g.ws_route = route
    g.ws_request_id = ws.ids.request_id()
    g.ws_trace_id = ws.ids.trace_id()
    g.ws_started_ms = ws.now_ms()
    g.ws_perf = time.perf_counter()
    g.ws_fault = None

    kind = ws.faults.draw()
    if kind == "slow":
        g.ws_fault = "slow"
        time.sleep(ws.faults.slow_ms / 1000)
    elif kind is not None:
        g.ws_fault = kind
        return _fault_response(ws, route, kind)

    if route.family is not None:
        now = ws.now_ms()
        with ws.state.lock:
            window = ws.state.qps_windows.setdefault(route.family, deque())
            allowed = admit(window, now_ms=now, span_ms=1000, limit=ws.qps.get(route.family, 20))
            until = (window[0] + 1000) if window else now + 1000
        if not allowed:
            return qps_limited(ws.throttle_status, until)

    if route.auth == "header":
        token = request.headers.get(TOKEN_HEADER)
        if not ws.state.token_valid(token, ws.now_ms()):
            return v1_error(400, "InvalidAuthentication", "不合法的access_token")
    elif route.auth == "query":
        token = request.args.get("access_token")
        if not token:
            return oapi_error(40035, "缺少参数 access_token")
        if not ws.state.token_valid(token, ws.now_ms()):
            return oapi_error(40014, "不合法的access_token")
    return None


def _fault_response(ws: Workspace, route: Route, kind: str) -> Response:
    if kind == "qps403":
        return qps_limited(403, ws.now_ms() + 1000)
    if kind == "html":
        return html_throttle_page()
    if kind == "errcode200":
        if route.api == "oapi":
            return oapi_error(-1, "系统繁忙")
        return v1_error(503, "ServiceUnavailable", "服务暂时不可用，请稍后重试")
    status = ws.faults.pick([500, 502, 503])
    if ws.faults.pick(["json", "text"]) == "json":
        if route.api == "oapi":
            return oapi_error(-1, "系统繁忙", status)
        return v1_error(
            status, "InternalError" if status == 500 else "ServiceUnavailable", "系统繁忙，请稍后重试"
        )
    reasons = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    return Response(reasons[status], status=status, content_type="text/plain")


def _after(response: Response) -> Response:
    route: Route | None = getattr(g, "ws_route", None)
    if route is None:
        return response
    response.headers["Server"] = "DingTalk/1.0.0"
    if route.api == "v1":
        response.headers["x-acs-request-id"] = g.ws_request_id
        response.headers["x-acs-trace-id"] = g.ws_trace_id
    ws = current()
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": _masked_query(),
        "headers": _safe_headers(),
        "status": response.status_code,
        "response": _response_body(response),
        "time": g.ws_started_ms,
        "durationMs": round((time.perf_counter() - g.ws_perf) * 1000, 1),
        "requestid": g.ws_request_id if route.api == "v1" else None,
        "fault": g.ws_fault,
    }
    entry.update(_request_body())
    ws.state.record_call(entry)
    return response


def _redacted(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {key: "***" if key in SECRET_FIELDS and value else value for key, value in values.items()}


def _masked_query() -> dict[str, str]:
    return _redacted(request.args.to_dict(flat=True))


def _safe_headers() -> dict[str, str]:
    headers = {name: request.headers[name] for name in SAFE_HEADERS if name in request.headers}
    if TOKEN_HEADER in request.headers:
        headers[TOKEN_HEADER] = "***"
    return headers


def _request_body() -> dict[str, Any]:
    mimetype = request.mimetype
    if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        files = [
            {"field": name, "filename": item.filename, "contentType": item.mimetype, "size": _size(item)}
            for name, item in request.files.items(multi=True)
        ]
        return {"form": _redacted(request.form.to_dict(flat=True)), "files": files}
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if mimetype == "application/json":
        try:
            return {"json": _redacted(json.loads(raw))}
        except ValueError:
            pass
    return {"raw": raw.decode("utf-8", "replace")[:MAX_RECORDED_TEXT]}


def _size(item: Any) -> int:
    stream = item.stream
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


def _response_body(response: Response) -> Any:
    if response.direct_passthrough:
        return None
    text = response.get_data(as_text=True)
    if response.mimetype == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text[:MAX_RECORDED_TEXT]


def _api_error(error: ApiError) -> Response:
    return v1_error(error.status, error.code, error.message)


def _oapi_error(error: OapiError) -> Response:
    return oapi_error(error.errcode, error.errmsg, error.status)


def _http_error(error: HTTPException) -> Response | HTTPException:
    """Unknown platform paths answer like the platform; others keep Flask's answer."""
    route = classify(request.path)
    status = error.code or 500
    if route is None:
        if request.path.startswith("/_ws/"):
            return Response(
                dumps({"error": error.name, "message": error.description}),
                status,
                content_type="application/json",
            )
        return error
    if route.api == "v1":
        # ASSUMED: Alibaba-gateway style code for an unknown action.
        return v1_error(
            status, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
        )
    if status == 404:
        return oapi_json({"errcode": 404, "errmsg": "请求的URI地址不存在"}, 404)
    return oapi_error(status, error.name, status)
