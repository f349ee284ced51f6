"""``oversight.image``: the worker uploads a bulletin's chart as media and sends it as a picture
(``sampleImageMsg`` with ``photoURL`` = the media id) to a group or to up to 20 users.

The PNG comes from the stored bulletin, checked against the hash the bulletin recorded, so the
picture people get is the one the bulletin says it showed. A retry after a failed send uploads
again (media ids are cheap and expire anyway).
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.context import JobContext
from bot.dingtalk.errors import FatalError
from bot.router import Router
from handlers.oversight.bulletin import IMAGE_JOB
from storage.models.oversight import Bulletin


def send_image(ctx: JobContext, payload: dict[str, Any]) -> str | None:
    with ctx.db.read() as session:
        row = session.get(Bulletin, int(payload["bulletin_id"]))
        if row is None:
            raise FatalError(f"bulletin {payload['bulletin_id']} is missing")
        png, expected = bytes(row.chart_png), row.chart_sha256
    if hashlib.sha256(png).hexdigest() != expected:
        raise FatalError(f"bulletin {payload['bulletin_id']} chart does not match its recorded hash")
    media_id = ctx.client.media_upload(png, f"通报图表-{payload['bulletin_id']}.png", "image")
    message = {"photoURL": media_id}
    if payload.get("openConversationId"):
        data = ctx.client.group_send(payload["openConversationId"], "sampleImageMsg", message)
    else:
        data = ctx.client.oto_send(list(payload["userIds"]), "sampleImageMsg", message)
    return data.get("processQueryKey")


def register(router: Router) -> None:
    router.job(IMAGE_JOB)(send_image)
