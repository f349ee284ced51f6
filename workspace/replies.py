"""Response shapes of the two DingTalk API generations (protocol §9, §3.2).

v1.0 (api.dingtalk.com): HTTP status carries the outcome; errors are
``{"code","requestid","message"}`` with the same id as the ``x-acs-request-id`` header.
oapi (oapi.dingtalk.com): almost always HTTP 200 with ``{"errcode","errmsg"}``.
Views raise ``ApiError`` / ``OapiError``; the gateway turns them into these bodies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, g, request

V1_CONTENT_TYPE = "application/json;charset=utf-8"
OAPI_CONTENT_TYPE = "application/json"
CHINA = timedelta(hours=8)


class ApiError(Exception):
    """A v1.0 error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class OapiError(Exception):
    """An oapi error answer (HTTP 200 unless told otherwise)."""

    def __init__(self, errcode: int, errmsg: str, *, status: int = 200) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode, self.errmsg, self.status = errcode, errmsg, status


def dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def v1_json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type=V1_CONTENT_TYPE)


def oapi_json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type=OAPI_CONTENT_TYPE)


def request_id() -> str:
    return str(getattr(g, "ws_request_id", ""))


def v1_error(status: int, code: str, message: str) -> Response:
    return v1_json({"code": code, "requestid": request_id(), "message": message}, status)


def oapi_error(errcode: int, errmsg: str, status: int = 200) -> Response:
    return oapi_json({"errcode": errcode, "errmsg": errmsg}, status)


def china_time(ms: int) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + CHINA).strftime("%Y-%m-%d %H:%M:%S")


def qps_limited(status: int, until_ms: int) -> Response:
    return v1_error(
        status, "Forbidden.AccessDenied.QpsLimitForApi", f"请求过于频繁，限制将在 {china_time(until_ms)} 结束"
    )


THROTTLE_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>访问受限</title></head>
<body><h1>访问过于频繁</h1><p>您的请求过于频繁，已被暂时限制，请稍后再试。</p></body></html>
"""


def html_throttle_page() -> Response:
    return Response(THROTTLE_PAGE, status=200, content_type="text/html;charset=utf-8")


MISSING_BODY = "body is mandatory for this action."


def v1_body() -> dict[str, Any]:
    """The JSON object body of a v1.0 call. Form, empty or non-object bodies are ``Missingbody``."""
    if request.mimetype != "application/json":
        raise ApiError(400, "Missingbody", MISSING_BODY)
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except ValueError as exc:
        raise ApiError(400, "Missingbody", MISSING_BODY) from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Missingbody", MISSING_BODY)
    return data


def oapi_body() -> dict[str, Any]:
    """The JSON object body of an oapi call (ASSUMED errcode for a missing/invalid body)."""
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except ValueError as exc:
        raise OapiError(40035, "缺少参数 json") from exc
    if not isinstance(data, dict):
        raise OapiError(40035, "缺少参数 json")
    return data
