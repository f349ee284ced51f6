"""One client for every DingTalk call we make.

Every call has an explicit (connect, read) timeout. Errors are classified into the typed errors
of ``bot.dingtalk.errors``; DingTalk reports many failures as HTTP 200 with an ``errcode``, and a
gateway under load may answer with an HTML page, so status codes alone are not enough.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bot.dingtalk.errors import AuthError, DingTalkError, FatalError, RetryableError
from bot.dingtalk.ssrf import check_url
from bot.settings import Settings

log = logging.getLogger(__name__)

# oapi errcodes that mean "busy or throttled, try later" (protocol notes §2.3, §6, §9).
RETRYABLE_ERRCODES = {-1, 15, 88, 90002, 90005, 90006, 90018, 90019, 41047, 41048}
THROTTLE_ERRCODES = {130101: 600.0, 90020: 3600.0}
AUTH_ERRCODES = {40014, 42001, 40001}
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


@dataclass
class _Token:
    value: str
    expires_at: float


class DingTalkClient:
    def __init__(
        self,
        settings: Settings,
        *,
        http: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.http = http or requests.Session()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.timeout = (settings.http_connect_timeout, settings.http_read_timeout)

    # -- tokens ------------------------------------------------------------------------------
    def access_token(self, kind: str = "api") -> str:
        """A cached token, refreshed five minutes (or a tenth of its life) before it expires."""
        with self._lock:
            token = self._tokens.get(kind)
            if token is not None and self._monotonic() < token.expires_at:
                return token.value
        value, ttl = self._fetch_token(kind)
        margin = min(300.0, ttl / 10)
        with self._lock:
            self._tokens[kind] = _Token(value, self._monotonic() + ttl - margin)
        return value

    def reset_token(self, kind: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self._tokens.clear()
            else:
                self._tokens.pop(kind, None)

    def _fetch_token(self, kind: str) -> tuple[str, float]:
        secret = self.settings.app_secret.get_secret_value()
        if kind == "api":
            data = self._send(
                "POST",
                f"{self.settings.dingtalk_api_base}/v1.0/oauth2/accessToken",
                json_body={"appKey": self.settings.app_key, "appSecret": secret},
                auth=None,
            )
            token, ttl = data.get("accessToken"), data.get("expireIn", 7200)
        else:
            data = self._send(
                "GET",
                f"{self.settings.dingtalk_oapi_base}/gettoken",
                params={"appkey": self.settings.app_key, "appsecret": secret},
                auth=None,
                oapi=True,
            )
            token, ttl = data.get("access_token"), data.get("expires_in", 7200)
        if not isinstance(token, str) or not token:
            raise AuthError("token response without a token")
        return token, float(ttl)

    # -- transport ---------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        auth: str | None = "api",
        oapi: bool = False,
    ) -> dict[str, Any]:
        """One call with one retry after an auth error (the token is dropped first)."""
        for attempt in (1, 2):
            headers: dict[str, str] = {"Accept": "application/json"}
            query = dict(params or {})
            if auth == "api":
                headers["x-acs-dingtalk-access-token"] = self.access_token("api")
            elif auth == "oapi":
                query["access_token"] = self.access_token("oapi")
            try:
                response = self.http.request(
                    method,
                    url,
                    json=json_body,
                    params=query or None,
                    files=files,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise RetryableError(f"network error: {type(exc).__name__}") from exc
            except requests.RequestException as exc:
                raise RetryableError(f"request failed: {type(exc).__name__}") from exc
            try:
                return classify(response, oapi=oapi)
            except AuthError:
                if auth is None or attempt == 2:
                    raise
                self.reset_token(auth)
        raise AssertionError("unreachable")

    def _api(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send(method, f"{self.settings.dingtalk_api_base}{path}", json_body=body)

    # -- robot -------------------------------------------------------------------------------
    def oto_send(self, user_ids: list[str], msg_key: str, msg_param: dict[str, Any]) -> dict[str, Any]:
        if not 1 <= len(user_ids) <= 20:
            raise FatalError("oToMessages/batchSend takes 1 to 20 userIds")
        return self._api(
            "POST",
            "/v1.0/robot/oToMessages/batchSend",
            {
                "robotCode": self.settings.robot_code,
                "userIds": user_ids,
                "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False),
            },
        )

    def group_send(self, conversation_id: str, msg_key: str, msg_param: dict[str, Any]) -> dict[str, Any]:
        return self._api(
            "POST",
            "/v1.0/robot/groupMessages/send",
            {
                "robotCode": self.settings.robot_code,
                "openConversationId": conversation_id,
                "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False),
            },
        )

    def file_download_url(self, download_code: str) -> str:
        data = self._api(
            "POST",
            "/v1.0/robot/messageFiles/download",
            {"robotCode": self.settings.robot_code, "downloadCode": download_code},
        )
        url = data.get("downloadUrl")
        if not isinstance(url, str) or not url:
            raise FatalError("messageFiles/download answered without downloadUrl")
        return url

    def download(self, url: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> tuple[bytes, str]:
        """Fetch a ``downloadUrl`` (no auth header, as the SDK does), bounded in size."""
        try:
            with self.http.get(url, timeout=self.timeout, stream=True, allow_redirects=False) as response:
                if response.status_code >= 500:
                    raise RetryableError("download failed", status=response.status_code)
                if response.status_code != 200:
                    raise FatalError("download refused", status=response.status_code)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FatalError(f"download larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("Content-Type", "application/octet-stream")
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"network error: {type(exc).__name__}") from exc

    # -- cards -------------------------------------------------------------------------------
    def card_create_and_deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        data = self._api("POST", "/v1.0/card/instances/createAndDeliver", body)
        result = data.get("result") or {}
        failed = [r for r in result.get("deliverResults", []) if not r.get("success")]
        if failed:
            raise FatalError(f"card not delivered: {failed[0].get('errorMsg') or 'unknown reason'}")
        return data

    def card_update(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "cardUpdateOptions": {"updateCardDataByKey": True, "updatePrivateDataByKey": True}}
        return self._api("PUT", "/v1.0/card/instances", body)

    # -- oapi --------------------------------------------------------------------------------
    def work_notice(self, user_ids: list[str], msg: dict[str, Any]) -> dict[str, Any]:
        return self._send(
            "POST",
            f"{self.settings.dingtalk_oapi_base}/topapi/message/corpconversation/asyncsend_v2",
            json_body={"agent_id": self.settings.agent_id, "userid_list": ",".join(user_ids), "msg": msg},
            auth="oapi",
            oapi=True,
        )

    def media_upload(self, content: bytes, file_name: str, media_type: str = "file") -> str:
        data = self._send(
            "POST",
            f"{self.settings.dingtalk_oapi_base}/media/upload",
            params={"type": media_type},
            data={"type": media_type},
            files={"media": (file_name, content)},
            auth="oapi",
            oapi=True,
        )
        media_id = data.get("media_id")
        if not isinstance(media_id, str):
            raise FatalError("media/upload answered without media_id")
        return media_id

    # -- session webhook ---------------------------------------------------------------------
    def session_webhook_send(
        self, url: str, body: dict[str, Any], *, expires_at_ms: int, now_ms: int
    ) -> None:
        """Reply through a callback's ``sessionWebhook`` (only while fresh, only to DingTalk)."""
        if expires_at_ms and now_ms >= expires_at_ms:
            raise FatalError("sessionWebhook expired", code="300001")
        check_url(
            url,
            allowed_hosts=self.settings.session_webhook_hosts,
            allow_loopback=self.settings.session_webhook_allow_loopback,
        )
        try:
            response = self.http.post(url, json=body, timeout=self.timeout, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"network error: {type(exc).__name__}") from exc
        if 300 <= response.status_code < 400:
            raise FatalError(
                "sessionWebhook answered with a redirect; not followed", status=response.status_code
            )
        classify(response, oapi=True)


def classify(response: requests.Response, *, oapi: bool) -> dict[str, Any]:
    """Turn a platform response into data or a typed error."""
    status = response.status_code
    request_id = response.headers.get("x-acs-request-id", "")
    retry_after = _retry_after(response)
    content_type = response.headers.get("Content-Type", "")
    try:
        data = response.json()
    except ValueError:
        data = None
    if data is None or not isinstance(data, dict):
        if status >= 500 or status == 429:
            raise RetryableError("platform error without JSON", status=status, retry_after=retry_after)
        if "html" in content_type.lower() or status == 200:
            # An HTML page from the gateway is its throttling answer (blocks for minutes).
            raise RetryableError(
                "non-JSON answer (gateway throttling page)", status=status, retry_after=retry_after or 300.0
            )
        raise FatalError("non-JSON error answer", status=status)

    code = str(data.get("code", ""))
    message = str(data.get("message") or data.get("errmsg") or "")
    request_id = request_id or str(data.get("requestid", ""))
    if status == 429 or (status == 403 and "QpsLimit" in code):
        raise RetryableError(
            message or "throttled",
            code=code,
            status=status,
            request_id=request_id,
            retry_after=retry_after or 1.0,
        )
    if status >= 500:
        raise RetryableError(
            message or "server error",
            code=code,
            status=status,
            request_id=request_id,
            retry_after=retry_after,
        )
    if status == 401 or code == "InvalidAuthentication":
        raise AuthError(message or "access token refused", code=code, status=status, request_id=request_id)
    if status >= 400:
        raise FatalError(message or "request refused", code=code, status=status, request_id=request_id)
    if oapi or "errcode" in data:
        errcode = data.get("errcode", 0)
        if errcode not in (0, None, "0"):
            try:
                number = int(errcode)
            except (TypeError, ValueError):
                number = -1
            if number in AUTH_ERRCODES:
                raise AuthError(message, code=str(number), status=status)
            if number in THROTTLE_ERRCODES:
                raise RetryableError(
                    message, code=str(number), status=status, retry_after=THROTTLE_ERRCODES[number]
                )
            if number in RETRYABLE_ERRCODES:
                raise RetryableError(message, code=str(number), status=status, retry_after=retry_after)
            raise FatalError(message, code=str(number), status=status)
    return data


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


__all__ = ["AuthError", "DingTalkClient", "DingTalkError", "FatalError", "RetryableError", "classify"]
