"""The composition root: wires ``handlers`` into ``bot`` for the web app, the worker and the CLI."""

from __future__ import annotations

from flask import Flask

import handlers
from bot import create_app
from bot.clock import Clock
from bot.router import Router
from bot.services import Services
from bot.settings import Settings
from storage.db import Database


def build_services(
    settings: Settings | None = None, *, clock: Clock | None = None, db: Database | None = None
) -> Services:
    settings = settings or Settings()
    router = handlers.register(Router())
    return Services.build(settings, router, clock=clock, db=db)


def build_app(services: Services | None = None) -> Flask:
    services = services or build_services()
    return create_app(services, extra=handlers.register_web)
