"""The fake DingTalk platform: every platform path on one blueprint.

Paths and methods are exact and case-sensitive as on DingTalk (``oToMessages`` for batch send).
The gateway (``workspace.gateway``) wraps them with faults, QPS limits, token checks and call
recording; the views live in one module per API family.
"""

from __future__ import annotations

from flask import Blueprint

from workspace import card_api, custom_robot, oapi, robot_api, tokens

blueprint = Blueprint("platform", __name__)

_RULES = (
    # v1.0 (api.dingtalk.com)
    ("/v1.0/oauth2/accessToken", "POST", tokens.v1_access_token),
    ("/v1.0/robot/oToMessages/batchSend", "POST", robot_api.oto_batch_send),
    ("/v1.0/robot/groupMessages/send", "POST", robot_api.group_send),
    ("/v1.0/robot/messageFiles/download", "POST", robot_api.message_file_download),
    ("/v1.0/card/instances", "POST", card_api.create_instance),
    ("/v1.0/card/instances", "PUT", card_api.update_instance),
    ("/v1.0/card/instances/createAndDeliver", "POST", card_api.create_and_deliver),
    ("/v1.0/card/instances/deliver", "POST", card_api.deliver),
    ("/v1.0/card/callbacks/register", "POST", card_api.register_callback),
    # oapi (oapi.dingtalk.com)
    ("/gettoken", "GET", tokens.oapi_gettoken),
    ("/topapi/message/corpconversation/asyncsend_v2", "POST", oapi.async_send_v2),
    ("/topapi/message/corpconversation/getsendprogress", "POST", oapi.get_send_progress),
    ("/topapi/message/corpconversation/getsendresult", "POST", oapi.get_send_result),
    ("/media/upload", "POST", oapi.media_upload),
    ("/robot/send", "POST", custom_robot.robot_send),
    ("/robot/sendBySession", "POST", custom_robot.send_by_session),
)

for _path, _method, _view in _RULES:
    blueprint.add_url_rule(
        _path,
        f"{_method.lower()}_{_view.__module__.rsplit('.', 1)[-1]}_{_view.__name__}",
        _view,
        methods=[_method],
    )

# Target of messageFiles/download's downloadUrl: no auth, outside the gateway (never faulted).
blueprint.add_url_rule("/_files/<token>", "file", robot_api.serve_file, methods=["GET"])
