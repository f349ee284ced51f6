"""Outbound rules that need no server: response classification and the sessionWebhook guard."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from bot.dingtalk.client import DingTalkClient, classify
from bot.dingtalk.errors import AuthError, FatalError, RetryableError, SsrfRefused
from bot.dingtalk.ssrf import check_url
from bot.settings import Settings


def _response(
    status: int, body: object, *, content_type: str = "application/json", headers: dict | None = None
):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def test_qps_limit_403_is_retryable():
    with pytest.raises(RetryableError) as caught:
        classify(
            _response(403, {"code": "Forbidden.AccessDenied.QpsLimitForApi", "message": "请求过于频繁"}),
            oapi=False,
        )
    assert caught.value.retry_after == 1.0


def test_429_honours_retry_after_header():
    with pytest.raises(RetryableError) as caught:
        classify(_response(429, {"code": "Throttled"}, headers={"Retry-After": "7"}), oapi=False)
    assert caught.value.retry_after == 7.0


def test_server_error_is_retryable_and_keeps_the_request_id():
    with pytest.raises(RetryableError) as caught:
        classify(
            _response(503, {"code": "ServiceUnavailable"}, headers={"x-acs-request-id": "ABC"}), oapi=False
        )
    assert caught.value.request_id == "ABC"


def test_invalid_token_is_an_auth_error():
    with pytest.raises(AuthError):
        classify(
            _response(400, {"code": "InvalidAuthentication", "message": "不合法的access_token"}), oapi=False
        )


def test_bad_parameter_is_fatal():
    with pytest.raises(FatalError):
        classify(_response(400, {"code": "invalidParameter.msgParam.invalid"}), oapi=False)


def test_http_200_with_busy_errcode_is_retryable():
    with pytest.raises(RetryableError):
        classify(_response(200, {"errcode": -1, "errmsg": "系统繁忙"}), oapi=True)


def test_custom_robot_throttle_waits_ten_minutes():
    with pytest.raises(RetryableError) as caught:
        classify(_response(200, {"errcode": 130101, "errmsg": "send too fast"}), oapi=True)
    assert caught.value.retry_after == 600.0


def test_html_page_in_200_is_treated_as_gateway_throttling():
    with pytest.raises(RetryableError) as caught:
        classify(_response(200, b"<html>busy</html>", content_type="text/html"), oapi=False)
    assert caught.value.retry_after == 300.0


def test_oapi_success_returns_data():
    assert classify(_response(200, {"errcode": 0, "task_id": 5}), oapi=True)["task_id"] == 5


def _resolver(mapping):
    return lambda host, port: mapping[host]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/robot/sendBySession?session=x",
        "http://169.254.169.254/latest/meta-data",
        "https://evil.example.com/robot/sendBySession",
        "ftp://oapi.dingtalk.com/x",
        "https://user:pw@oapi.dingtalk.com/x",
    ],
)
def test_session_webhook_outside_dingtalk_is_refused(url):
    with pytest.raises(SsrfRefused):
        check_url(
            url,
            allowed_hosts=["oapi.dingtalk.com"],
            resolver=_resolver({"oapi.dingtalk.com": ["203.119.1.1"]}),
        )


def test_dingtalk_host_resolving_to_a_private_address_is_refused():
    with pytest.raises(SsrfRefused):
        check_url(
            "https://oapi.dingtalk.com/robot/sendBySession?session=x",
            allowed_hosts=["oapi.dingtalk.com"],
            resolver=_resolver({"oapi.dingtalk.com": ["10.0.0.5"]}),
        )


def test_unresolvable_host_fails_closed():
    def broken(host, port):
        raise OSError("no dns")

    with pytest.raises(SsrfRefused):
        check_url("https://oapi.dingtalk.com/x", allowed_hosts=["oapi.dingtalk.com"], resolver=broken)


def test_public_dingtalk_address_is_allowed():
    url = "https://oapi.dingtalk.com/robot/sendBySession?session=x"
    assert (
        check_url(
            url,
            allowed_hosts=["oapi.dingtalk.com"],
            resolver=_resolver({"oapi.dingtalk.com": ["203.119.1.1"]}),
        )
        == url
    )


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:9/robot/sendBySession?session=x", "http://169.254.169.254/x"]
)
def test_client_refuses_before_opening_any_connection(monkeypatch, target):
    def no_connections(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_connections)
    client = DingTalkClient(Settings())
    with pytest.raises(SsrfRefused):
        client.session_webhook_send(
            target, {"msgtype": "text", "text": {"content": "x"}}, expires_at_ms=0, now_ms=0
        )


def test_client_refuses_an_expired_session_webhook():
    client = DingTalkClient(Settings())
    with pytest.raises(FatalError) as caught:
        client.session_webhook_send("https://oapi.dingtalk.com/x", {}, expires_at_ms=1000, now_ms=2000)
    assert caught.value.code == "300001"
