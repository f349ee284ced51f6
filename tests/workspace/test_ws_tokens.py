"""Access tokens and the v1.0 / oapi authentication answers (protocol §3, §9)."""

from __future__ import annotations

import re

from tests.workspace.support import APP_KEY, APP_SECRET, oapi_token_for, token_for

UPPER_UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def test_json_credentials_get_a_token_valid_for_7200_seconds(ws_client):
    response = ws_client.post("/v1.0/oauth2/accessToken", json={"appKey": APP_KEY, "appSecret": APP_SECRET})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"accessToken", "expireIn"}
    assert body["expireIn"] == 7200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert UPPER_UUID.match(response.headers["x-acs-request-id"])
    assert response.headers["x-acs-trace-id"]


def test_a_second_fetch_returns_the_same_token_while_it_is_valid(ws_client):
    assert token_for(ws_client) == token_for(ws_client)


def test_form_encoded_token_request_is_rejected_as_missing_body(ws_client):
    response = ws_client.post("/v1.0/oauth2/accessToken", data={"appKey": APP_KEY, "appSecret": APP_SECRET})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "Missingbody"
    assert body["requestid"] == response.headers["x-acs-request-id"]


def test_wrong_app_secret_is_rejected_with_a_chinese_message(ws_client):
    response = ws_client.post("/v1.0/oauth2/accessToken", json={"appKey": APP_KEY, "appSecret": "nope"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalidClientIdOrSecret"
    assert response.get_json()["message"] == "无效的clientId或者clientSecret"


def test_oapi_gettoken_answers_in_the_errcode_envelope(ws_client):
    response = ws_client.get("/gettoken", query_string={"appkey": APP_KEY, "appsecret": APP_SECRET})
    body = response.get_json()
    assert response.status_code == 200
    assert list(body) == ["errcode", "access_token", "errmsg", "expires_in"]
    assert (body["errcode"], body["errmsg"], body["expires_in"]) == (0, "ok", 7200)


def test_oapi_gettoken_with_bad_credentials_is_errcode_40089(ws_client):
    response = ws_client.get("/gettoken", query_string={"appkey": APP_KEY, "appsecret": "bad"})
    assert response.status_code == 200
    assert response.get_json()["errcode"] == 40089


def test_missing_token_is_invalid_authentication_with_the_header_request_id(ws_client, people):
    response = ws_client.post("/v1.0/robot/groupMessages/send", json={"robotCode": APP_KEY})
    assert response.status_code == 400
    body = response.get_json()
    assert body == {
        "code": "InvalidAuthentication",
        "requestid": body["requestid"],
        "message": "不合法的access_token",
    }
    assert UPPER_UUID.match(body["requestid"])
    assert response.headers["x-acs-request-id"] == body["requestid"]


def test_unknown_token_is_invalid_authentication(ws_client):
    response = ws_client.post(
        "/v1.0/card/instances", json={}, headers={"x-acs-dingtalk-access-token": "0123456789abcdef"}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "InvalidAuthentication"


def test_token_expires_after_its_lifetime(ws_client, ws_clock, people):
    token = token_for(ws_client)
    ws_clock.advance(7200 * 1000 + 1)
    response = ws_client.post(
        "/v1.0/robot/oToMessages/batchSend", json={}, headers={"x-acs-dingtalk-access-token": token}
    )
    assert response.get_json()["code"] == "InvalidAuthentication"
    assert token_for(ws_client) != token


def test_oapi_bad_token_is_errcode_40014_with_http_200(ws_client):
    response = ws_client.post(
        "/topapi/message/corpconversation/asyncsend_v2", query_string={"access_token": "bad"}, json={}
    )
    assert response.status_code == 200
    assert response.get_json() == {"errcode": 40014, "errmsg": "不合法的access_token"}


def test_oapi_token_is_accepted_on_oapi_calls(ws_client, people):
    token = oapi_token_for(ws_client)
    response = ws_client.post(
        "/topapi/message/corpconversation/asyncsend_v2",
        query_string={"access_token": token},
        json={
            "agent_id": 4242,
            "userid_list": "u-zhang",
            "msg": {"msgtype": "text", "text": {"content": "hi"}},
        },
    )
    assert response.get_json()["errcode"] == 0


def test_recorded_calls_keep_no_credentials(ws_client):
    token = token_for(ws_client)
    ws_client.post(
        "/topapi/message/corpconversation/asyncsend_v2", query_string={"access_token": token}, json={}
    )
    token_call, oapi_call = ws_client.get("/_ws/calls").get_json()["calls"]
    assert token_call["json"] == {"appKey": APP_KEY, "appSecret": "***"}
    assert oapi_call["query"] == {"access_token": "***"}
    assert APP_SECRET not in str(token_call)
