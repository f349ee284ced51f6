"""GET / — the phone-like page: be any person of the workspace and use DingTalk as they would.

The page is static HTML, CSS and one small script (``templates/phone.html``, ``static/``): no
CDN, no build step, so ``chayici demo`` works offline. Everything it shows comes from the ``/_ws``
JSON API (``/_ws/feed``, ``/_ws/specs``, ``/_ws/users``); everything it does goes through the
same ``/_ws`` calls a test uses (``say``, ``send_media``, ``card_action``), so the page can never
do something a test cannot. A Content-Security-Policy keeps it on its own origin, except for pictures: a card may show\nan image by its web address (the 行政行为码 QR), as DingTalk's client does.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from workspace.runtime import current

blueprint = Blueprint("workspace_phone", __name__)

CSP = (
    "default-src 'self'; img-src 'self' data: blob: http: https:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)


@blueprint.get("/")
def phone() -> Response:
    html = render_template("phone.html", bot_name=current().config.bot_name)
    response = Response(html, content_type="text/html;charset=utf-8")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    return response
