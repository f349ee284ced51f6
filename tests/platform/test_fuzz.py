"""Property test: whatever arrives at the two callback routes, the answer is never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_SECRET
from tests.helpers import robot_body, signed_headers

ALLOWED = {200, 400, 401, 403, 404, 413}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

robot_keys = [*robot_body("帮助").keys(), "content", "text", "msgtype", "atUsers"]
robot_like = st.dictionaries(st.sampled_from(robot_keys), json_values, max_size=12)


def _mutated_robot(draw_dict: dict) -> dict:
    body = robot_body("帮助")
    body.update(draw_dict)
    return body


card_keys = [
    "outTrackId",
    "userId",
    "corpId",
    "content",
    "value",
    "spaceId",
    "spaceType",
    "type",
    "userIdType",
]
content_strings = st.one_of(
    st.text(max_size=50),
    json_values.map(lambda v: json.dumps(v)),
    st.fixed_dictionaries(
        {"cardPrivateData": st.fixed_dictionaries({"actionIds": json_values, "params": json_values})}
    ).map(json.dumps),
)
card_like = st.fixed_dictionaries(
    {},
    optional={key: (content_strings if key in ("content", "value") else json_values) for key in card_keys},
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_robot_route_never_fails_on_random_bytes(client, clock, raw):
    headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
    assert client.post("/dingtalk/robot", data=raw, headers=headers).status_code in ALLOWED


@FUZZ
@given(changes=robot_like)
def test_robot_route_never_fails_on_odd_field_values(client, clock, changes):
    headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
    data = json.dumps(_mutated_robot(changes)).encode()
    assert client.post("/dingtalk/robot", data=data, headers=headers).status_code in ALLOWED


@FUZZ
@given(value=json_values)
def test_robot_route_never_fails_on_any_json_document(client, clock, value):
    headers = signed_headers(TEST_SECRET, int(clock.now().timestamp() * 1000))
    assert (
        client.post("/dingtalk/robot", data=json.dumps(value).encode(), headers=headers).status_code
        in ALLOWED
    )


@FUZZ
@given(body=card_like)
def test_card_route_never_fails_on_odd_callbacks(client, body):
    assert client.post("/dingtalk/card", data=json.dumps(body).encode()).status_code in ALLOWED


@FUZZ
@given(raw=st.binary(max_size=300))
def test_card_route_never_fails_on_random_bytes(client, raw):
    assert client.post("/dingtalk/card", data=raw).status_code in ALLOWED


@FUZZ
@given(action=st.text(max_size=20), params=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_card_route_never_fails_on_a_real_card_with_odd_params(app, services, clock, action, params):
    from bot.context import CardContext, CardResult
    from storage.models.platform import CardInstance
    from tests.helpers import make_person

    if ("notice", "echo") not in services.router.card_actions:

        @services.router.card_action("notice", "echo", "")
        def _echo(ctx: CardContext) -> CardResult:
            return CardResult(update={"body": ",".join(ctx.param(name) for name in ctx.params)})

    with services.db.write() as session:
        if session.get(CardInstance, "fuzz-card") is None:
            make_person(session, "模糊测试", "u1", now=clock.now())
            session.add(
                CardInstance(
                    out_track_id="fuzz-card",
                    template_key="notice",
                    space_type="IM_GROUP",
                    space_id="cidF",
                    audience=[],
                    params={},
                    version=1,
                    state="active",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    content = json.dumps({"cardPrivateData": {"actionIds": [action or "echo"], "params": params}})
    body = {"outTrackId": "fuzz-card", "userId": "u1", "content": content, "value": content}
    response = app.test_client().post("/dingtalk/card", data=json.dumps(body).encode())
    assert response.status_code in ALLOWED
    if response.status_code == 200 and (action or "echo") == "echo":
        assert "cardData" in response.json or "toast" in response.json["userPrivateData"]["cardParamMap"]
