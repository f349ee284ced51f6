"""WSGI entry for gunicorn: ``gunicorn chayici.wsgi:app``."""

from __future__ import annotations

from bot.logmask import install
from chayici import build_app

install()
app = build_app()
