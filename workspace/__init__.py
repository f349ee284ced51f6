"""A local DingTalk-compatible workspace ("the workspace").

It fakes the DingTalk open platform (same paths, fields, errors and limits as the protocol notes),
plays the users (signed robot and card callbacks to the bot) and shows a simple page. It is the
embedded default for ``chayici demo`` and the target of all integration tests. It never contains
bot logic and imports no project package but ``cards``.
"""

from __future__ import annotations

from workspace.app import create_app
from workspace.config import WorkspaceConfig
from workspace.server import WorkspaceServer, serve_forever

__all__ = ["WorkspaceConfig", "WorkspaceServer", "create_app", "serve_forever"]
