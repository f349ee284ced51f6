"""The platform edge. Knows DingTalk; knows nothing about inspections.

``create_app`` builds the Flask app around a ``Services`` object whose router the composition
root (``chayici``) has filled with ``handlers.register``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response

from bot.inbound import blueprint
from bot.services import Services


def create_app(services: Services, *, extra: Callable[[Flask], None] | None = None) -> Flask:
    app = Flask("chayici")
    app.config["MAX_CONTENT_LENGTH"] = services.settings.max_body_bytes
    app.extensions["chayici"] = services
    app.register_blueprint(blueprint)

    @app.errorhandler(413)
    def _too_large(_exc: Exception) -> Response:
        return Response(
            '{"error":{"code":"body_too_large","message":"请求体过大"}}',
            status=413,
            mimetype="application/json",
        )

    @app.errorhandler(404)
    def _not_found(_exc: Exception) -> Response:
        return Response(
            '{"error":{"code":"not_found","message":"没有这个地址"}}', status=404, mimetype="application/json"
        )

    @app.errorhandler(405)
    def _bad_method(_exc: Exception) -> Response:
        return Response(
            '{"error":{"code":"method_not_allowed","message":"不支持这种请求方法"}}',
            status=405,
            mimetype="application/json",
        )

    if extra is not None:
        extra(app)
    return app
