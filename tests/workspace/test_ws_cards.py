"""Card instances: create/deliver checks, idempotent create, update semantics (protocol §5.3)."""

from __future__ import annotations

from tests.workspace.support import APP_KEY, messages


def create_and_deliver(client, token, **overrides):
    body = {
        "cardTemplateId": "chayici.notice.schema",
        "outTrackId": "notice-1",
        "callbackType": "HTTP",
        "cardData": {"cardParamMap": {"title": "3号楼巡检", "status": "待处理", "body": "请核查"}},
        "openSpaceId": "dtv1.card//IM_ROBOT.u-zhang",
        "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": APP_KEY},
        "userIdType": 1,
    }
    body.update(overrides)
    return client.post(
        "/v1.0/card/instances/createAndDeliver", json=body, headers={"x-acs-dingtalk-access-token": token}
    )


def update(client, token, body):
    return client.put("/v1.0/card/instances", json=body, headers={"x-acs-dingtalk-access-token": token})


def test_create_and_deliver_answers_per_space_and_shows_the_card_in_each_conversation(
    ws_client, token, people
):
    response = create_and_deliver(
        ws_client,
        token,
        openSpaceId=f"dtv1.card//IM_GROUP.{people['group']};IM_ROBOT.u-wang",
        imGroupOpenDeliverModel={"robotCode": APP_KEY},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["result"]["outTrackId"] == "notice-1"
    results = body["result"]["deliverResults"]
    assert [(r["spaceType"], r["spaceId"], r["success"], r["errorMsg"]) for r in results] == [
        ("IM_GROUP", people["group"], True, None),
        ("IM_ROBOT", "u-wang", True, None),
    ]
    assert all(r["carrierId"] for r in results)
    for cid in (people["group"], people["private"]["u-wang"]):
        [message] = messages(ws_client, cid)
        assert message["msgtype"] == "interactiveCard" and message["outTrackId"] == "notice-1"
    card = ws_client.get("/_ws/cards/notice-1").get_json()
    assert card["templateKey"] == "notice"
    assert card["view"]["title"] == "3号楼巡检" and card["view"]["status"] == "待处理"


def test_lower_case_space_types_are_accepted_and_stored_upper_case(ws_client, token, people):
    response = create_and_deliver(
        ws_client,
        token,
        openSpaceId=f"dtv1.card//im_group.{people['group']}",
        imGroupOpenDeliverModel={"robotCode": APP_KEY},
    )
    assert response.get_json()["result"]["deliverResults"][0]["spaceType"] == "IM_GROUP"
    assert ws_client.get("/_ws/cards/notice-1").get_json()["spaces"][0]["spaceType"] == "IM_GROUP"


def test_unknown_user_or_group_fails_in_deliver_results_without_failing_the_call(ws_client, token, people):
    response = create_and_deliver(
        ws_client,
        token,
        openSpaceId="dtv1.card//IM_ROBOT.ghost;IM_GROUP.cidNOSUCH==",
        imGroupOpenDeliverModel={"robotCode": APP_KEY},
    )
    assert response.status_code == 200
    results = response.get_json()["result"]["deliverResults"]
    assert [r["success"] for r in results] == [False, False]
    assert all(r["errorMsg"] for r in results)


def test_group_delivery_requires_the_robot_code(ws_client, token, people):
    response = create_and_deliver(ws_client, token, openSpaceId=f"dtv1.card//IM_GROUP.{people['group']}")
    assert response.status_code == 400
    assert ws_client.get("/_ws/cards").get_json()["cards"] == []


def test_non_string_card_param_is_rejected_and_no_card_is_made(ws_client, token, people):
    response = create_and_deliver(
        ws_client, token, cardData={"cardParamMap": {"title": "x", "submitted": False}}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "param.cardParamMapValueNotString"
    assert "submitted" in response.get_json()["message"]
    assert ws_client.get("/_ws/cards").get_json()["cards"] == []
    assert messages(ws_client, people["private"]["u-zhang"]) == []


def test_missing_template_or_out_track_id_have_their_own_codes(ws_client, token, people):
    assert (
        create_and_deliver(ws_client, token, cardTemplateId="").get_json()["code"]
        == "param.cardTemplateIdEmpty"
    )
    assert create_and_deliver(ws_client, token, outTrackId="").get_json()["code"] == "param.outTrackIdEmpty"


def test_duplicate_create_and_deliver_makes_one_card_and_answers_the_same(ws_client, token, people):
    first = create_and_deliver(ws_client, token).get_json()
    second = create_and_deliver(ws_client, token, cardData={"cardParamMap": {"title": "另一个"}}).get_json()
    assert second == first
    assert len(ws_client.get("/_ws/cards").get_json()["cards"]) == 1
    assert len(messages(ws_client, people["private"]["u-zhang"])) == 1
    assert ws_client.get("/_ws/cards/notice-1").get_json()["params"]["title"] == "3号楼巡检"


def test_create_then_deliver_in_two_calls(ws_client, token, people):
    headers = {"x-acs-dingtalk-access-token": token}
    created = ws_client.post(
        "/v1.0/card/instances",
        json={
            "cardTemplateId": "raw-template-id",
            "outTrackId": "c2",
            "cardData": {"cardParamMap": {"a": "1"}},
        },
        headers=headers,
    )
    assert created.get_json() == {"success": True, "result": "c2"}
    assert messages(ws_client, people["private"]["u-li"]) == []
    delivered = ws_client.post(
        "/v1.0/card/instances/deliver",
        json={"outTrackId": "c2", "openSpaceId": "dtv1.card//IM_ROBOT.u-li"},
        headers=headers,
    )
    assert delivered.get_json()["result"][0]["success"] is True
    assert ws_client.get("/_ws/cards/c2").get_json()["templateKey"] is None
    assert len(messages(ws_client, people["private"]["u-li"])) == 1


def test_update_by_key_merges_the_public_params(ws_client, token, people):
    create_and_deliver(ws_client, token)
    response = update(
        ws_client,
        token,
        {
            "outTrackId": "notice-1",
            "cardData": {"cardParamMap": {"status": "已完成"}},
            "cardUpdateOptions": {"updateCardDataByKey": True},
        },
    )
    assert response.get_json() == {"success": True, "result": True}
    card = ws_client.get("/_ws/cards/notice-1").get_json()
    assert card["params"] == {"title": "3号楼巡检", "status": "已完成", "body": "请核查"}
    assert card["version"] == 2


def test_update_without_by_key_replaces_the_public_params(ws_client, token, people):
    create_and_deliver(ws_client, token)
    update(
        ws_client,
        token,
        {
            "outTrackId": "notice-1",
            "cardData": {"cardParamMap": {"status": "已完成"}},
            "cardUpdateOptions": {"updateCardDataByKey": False},
        },
    )
    assert ws_client.get("/_ws/cards/notice-1").get_json()["params"] == {"status": "已完成"}


def test_update_private_data_per_user(ws_client, token, people):
    create_and_deliver(ws_client, token)
    update(
        ws_client,
        token,
        {
            "outTrackId": "notice-1",
            "privateData": {"u-zhang": {"cardParamMap": {"toast": "已提交"}}},
            "cardUpdateOptions": {"updatePrivateDataByKey": True},
        },
    )
    card = ws_client.get("/_ws/cards/notice-1").get_json()
    assert card["private"] == {"u-zhang": {"toast": "已提交"}}
    assert card["params"]["title"] == "3号楼巡检"


def test_update_of_an_unknown_card_is_rejected(ws_client, token, people):
    response = update(ws_client, token, {"outTrackId": "nope", "cardData": {"cardParamMap": {}}})
    assert response.status_code == 400


def test_update_with_a_non_string_value_changes_nothing(ws_client, token, people):
    create_and_deliver(ws_client, token)
    response = update(
        ws_client, token, {"outTrackId": "notice-1", "cardData": {"cardParamMap": {"status": 1}}}
    )
    assert response.status_code == 400
    assert ws_client.get("/_ws/cards/notice-1").get_json()["version"] == 1


def test_callback_route_registration_answers_url_and_secret(ws_client, token):
    response = ws_client.post(
        "/v1.0/card/callbacks/register",
        json={
            "callbackRouteKey": "chayici",
            "callbackUrl": "https://bot.example/dingtalk/card",
            "apiSecret": "s3",
        },
        headers={"x-acs-dingtalk-access-token": token},
    )
    assert response.get_json() == {
        "success": True,
        "result": {"callbackUrl": "https://bot.example/dingtalk/card", "apiSecret": "s3"},
    }
