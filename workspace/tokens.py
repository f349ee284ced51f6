"""Access tokens (protocol §3): v1.0 ``/v1.0/oauth2/accessToken`` and oapi ``/gettoken``.

Both hand out the same token while it is valid and renew its life on each fetch (the official
gettoken page says so; ASSUMED to hold for the v1.0 endpoint too). Either token is accepted on
both API generations (§3.2: "the same kind of credential"; UNCONFIRMED).
"""

from __future__ import annotations

import hmac

from flask import Response, request

from workspace.replies import ApiError, OapiError, oapi_json, v1_body, v1_json
from workspace.runtime import current


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def v1_access_token() -> Response:
    ws = current()
    body = v1_body()
    for name in ("appKey", "appSecret"):
        if not body.get(name):
            raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
    if not (_same(body["appKey"], ws.config.app_key) and _same(body["appSecret"], ws.config.app_secret)):
        raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    token = ws.state.issue_token("api", ws.ids.access_token(), now_ms=ws.now_ms(), ttl_s=ws.config.token_ttl)
    return v1_json({"accessToken": token, "expireIn": ws.config.token_ttl})


def oapi_gettoken() -> Response:
    ws = current()
    appkey, appsecret = request.args.get("appkey"), request.args.get("appsecret")
    if not appkey or not appsecret:
        raise OapiError(40035, "缺少参数 appkey 或 appsecret")
    if not (_same(appkey, ws.config.app_key) and _same(appsecret, ws.config.app_secret)):
        raise OapiError(40089, "不合法的corpid或corpsecret或者不合法的appkey或appsecret")
    token = ws.state.issue_token("oapi", ws.ids.access_token(), now_ms=ws.now_ms(), ttl_s=ws.config.token_ttl)
    return oapi_json({"errcode": 0, "access_token": token, "errmsg": "ok", "expires_in": ws.config.token_ttl})
