"""Run the workspace on a real port: in a daemon thread (tests, ``chayici demo``) or in the
foreground (``chayici workspace``). Port 0 picks a free port; the workspace learns its own base
URL (for sessionWebhook and downloadUrl) once the port is bound.
"""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from workspace.app import create_app
from workspace.config import WorkspaceConfig
from workspace.runtime import Workspace
from workspace.state import State

POLL_SECONDS = 0.05  # how fast stop() returns (serve_forever checks for shutdown this often)


class WorkspaceServer:
    def __init__(self, config: WorkspaceConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app: Flask = create_app(config)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.base_url = f"http://{_url_host(host)}:{self._server.server_port}"
        if self.workspace.base_url is None:
            self.workspace.base_url = self.base_url
        self._thread: threading.Thread | None = None

    @property
    def workspace(self) -> Workspace:
        return self.app.extensions["workspace"]

    @property
    def state(self) -> State:
        return self.workspace.state

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> WorkspaceServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": POLL_SECONDS},
                name="workspace",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.workspace.cancel_timers()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WorkspaceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve_forever(config: WorkspaceConfig | None = None, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve in the foreground until interrupted (for the CLI)."""
    server = WorkspaceServer(config, host, port)
    print(
        f"workspace listening on {server.base_url} (bot at {server.workspace.config.bot_base_url})",
        flush=True,
    )
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.workspace.cancel_timers()
        server._server.server_close()
