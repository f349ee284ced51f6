"""Persistence: SQLAlchemy 2 models, engine set-up, migrations, audit chain, inbox/outbox/due tables.

This package imports no other project package; callers pass in what it needs (URLs, keys, times).
"""
