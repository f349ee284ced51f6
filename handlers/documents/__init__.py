"""Legal documents machinery (文书): numbering, PDF rendering in the worker, content-addressed
storage, sending to inspectors. Used by the draw (行政检查通知书) and by later capabilities
(现场检查记录, 行政检查登记表, 责令改正通知书)."""

from __future__ import annotations

from bot.router import Router
from handlers.documents.jobs import render_document
from handlers.documents.service import RENDER_JOB, Request, issue, issue_many, on_rendered, void

__all__ = ["RENDER_JOB", "Request", "issue", "issue_many", "on_rendered", "register", "void"]


def register(router: Router) -> None:
    router.job(RENDER_JOB)(render_document)
