"""``create_app``: the workspace as one Flask app (platform paths + /_ws control + the pages)."""

from __future__ import annotations

from flask import Flask

from workspace import control, feed, gateway, openapi, page, phone, users
from workspace.config import WorkspaceConfig
from workspace.runtime import Workspace

MAX_REQUEST_BYTES = 32 * 1024 * 1024


def create_app(config: WorkspaceConfig | None = None) -> Flask:
    config = config or WorkspaceConfig()
    # Named after the package so that ``static/`` and ``templates/`` beside this file are served.
    app = Flask("workspace")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.extensions["workspace"] = Workspace(config)
    gateway.install(app)
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(users.blueprint)
    app.register_blueprint(control.blueprint)
    app.register_blueprint(feed.blueprint)
    app.register_blueprint(page.blueprint)
    app.register_blueprint(phone.blueprint)
    return app
