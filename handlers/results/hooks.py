"""Extension points for the capabilities that follow results (rectification follow-up,
publication, dispositions), so this package needs no knowledge of them.

- ``on_order_issued(ctx, rectification, finding, document)``: a 责令改正通知书 was issued and its
  ``Rectification`` created in state ``ordered`` (the follow-up schedules reminders, records
  service and re-inspection from here). Called in the transaction of the version's
  ``results.issue`` worker job (``issue.py``), with a ``TickContext`` acting for the inspector
  who submitted; the PDF is rendered after that by the ``document.render`` job
  (``documents.on_rendered['rectify_order']`` runs when it exists).
- ``on_order_withdrawn(ctx, rectification)``: an edit of the record withdrew that order (state
  ``cancelled``, its document voided); cancel what was scheduled for it. Same job, same context.
- ``on_record_submitted(ctx, record, version)``: a version was stored (first or edit); called by
  its ``results.issue`` job once the documents are issued. A version replaced before its job ran
  gets no call (its job does nothing; the newer version's job calls it for the newer version).
- ``on_record_reviewed(ctx, record)``: the lead approved the record (publication starts here).
- ``media_routes(ctx, media) -> bool``: chat files offered to later capabilities first (a
  transfer's attachments, a re-check's photos); True = taken, results does nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.models import Document, Finding, InspectionRecord, RecordVersion, Rectification

on_order_issued: list[Callable[[Any, Rectification, Finding, Document], None]] = []
on_order_withdrawn: list[Callable[[Any, Rectification], None]] = []
on_record_submitted: list[Callable[[Any, InspectionRecord, RecordVersion], None]] = []
on_record_reviewed: list[Callable[[Any, InspectionRecord], None]] = []
media_routes: list[Callable[[Any, list[tuple[str, str, str | None]]], bool]] = []
