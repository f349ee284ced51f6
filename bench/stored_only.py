"""Variant (c) of the submission benches: the real form submission with its checks and its answer
taken out, to tell what reading and storing a version cost from what deciding and answering cost.

``service.prepare`` (every check of a submission) runs once for real; its ``Accepted`` is kept and
every later submission gets a copy with its own submission id, so the record read, the guarded
update, the version, the audit event and the job stay the real ones. ``web._submitted`` (the page
state sent back) is replaced by a short JSON answer. For benchmarks only: the copies carry the
first submission's content and submitter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Response

from handlers.results import service, web


class StoredOnly:
    """The switch: ``on()`` takes the checks and the answer out, ``off()`` puts them back; the
    ``Accepted`` kept by the first checked submission survives the switching."""

    def __init__(self) -> None:
        self._real = (service.prepare, web._submitted)
        self._kept: service.Accepted | None = None

    def on(self) -> None:
        service.prepare = self._prepare  # type: ignore[assignment]
        web._submitted = self._answer  # type: ignore[assignment]

    def off(self) -> None:
        service.prepare, web._submitted = self._real  # type: ignore[assignment]

    def _prepare(self, *args: Any, submission_id: str, **kwargs: Any) -> Any:
        if self._kept is not None:
            return dataclasses.replace(self._kept, submission_id=submission_id)
        result = self._real[0](*args, submission_id=submission_id, **kwargs)
        if isinstance(result, service.Accepted):
            self._kept = result
        return result

    @staticmethod
    def _answer(*_: Any) -> Response:
        return Response(b'{"ok": true}', mimetype="application/json")
