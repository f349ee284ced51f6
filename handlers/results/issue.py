"""The worker's ``results.issue`` job: everything a stored version starts, out of the request.

A submission (``service.submit``) checks the link, locks, validates, stores the version with its
audit event and queues one job per version (key ``results:issue:<version id>``). The job does
the rest in one write transaction, under the task lock then the record lock (the order every
writer follows), acting for the inspector who submitted (the audit events name them, as they did
when this ran in the request) through a ``TickContext``:

- findings, orders to correct and rectifications, with ``hooks.on_order_issued``; orders the new
  version does not keep are withdrawn (``hooks.on_order_withdrawn``) (``findings.issue``);
- the 现场检查记录 and 行政检查登记表, numbered, the sheets in force before them voided, and a
  ``document.render`` job per document (the PDF is drawn and sent to the team by that job);
- the task's state moves and the group's task card ("结果已提交 x/y");
- the team's result cards and the lead unit's review cards;
- ``hooks.on_record_submitted``.

A version that is no longer current when its job runs (an edit was stored in between) gets
nothing: the newer version's job issues the documents for what the record says then, against
whatever earlier jobs issued (orders kept or withdrawn, sheets voided), so a quick correction
never numbers and voids a set of documents nobody saw. A job whose version was already issued (a
worker that died after the commit, a lease taken over) does nothing either. Documents are dated
when the job issues them, normally within a second of the submission.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from bot.context import Context, JobContext, TickContext
from bot.dingtalk.errors import FatalError
from handlers.results import findings, hooks, progress, publish, records
from handlers.results.rows import RecordRow, VersionRow
from handlers.tasks import service as tasks
from storage.models import InspectionRecord, RecordVersion

ISSUE_JOB = "results.issue"

_VERSION = select(RecordVersion.record_id, RecordVersion.submitted_by_person_id).where(
    RecordVersion.id == bindparam("version_id")
)


def queue(ctx: Context, record: InspectionRecord | RecordRow, version: RecordVersion | VersionRow) -> None:
    """Queue the version's job (in the submitting transaction; one per version)."""
    ctx.enqueue(
        ISSUE_JOB,
        {"record_id": record.id, "version_id": version.id},
        key=f"results:issue:{version.id}",
    )


def run(job: JobContext, payload: dict[str, Any]) -> str:
    version_id = int(payload["version_id"])
    with job.db.write() as session:
        found = session.execute(_VERSION, {"version_id": version_id}).first()
        if found is None:
            raise FatalError(f"record version {version_id} does not exist")
        record_id, person_id = found
        submitter = session.execute(
            records.PERSON_AND_STAFF, {"person_id": person_id, "corp_id": job.settings.corp_id}
        ).first()
        person, staff_id = submitter if submitter is not None else (None, None)
        ctx = TickContext(
            session=session,
            now=job.now,
            settings=job.settings,
            audit_log=job.audit_log,
            person=person,
            staff_id=staff_id,
            event_key=f"results:issue:{version_id}",
        )
        loaded = records.lock_loaded(ctx, record_id)
        if loaded.record.current_version_id != version_id:
            return f"version {version_id} superseded"
        # read under the record lock: a second run waiting on it sees the first one's documents
        version = session.get(RecordVersion, version_id, populate_existing=True)
        assert version is not None
        if version.site_record_doc_id is not None:
            return f"version {version_id} already issued"
        issue(ctx, loaded, version)
        return f"version {version_id} issued"


def issue(ctx: Context, loaded: records.Loaded, version: RecordVersion) -> None:
    """What a current version starts (the job's work, in the caller's transaction)."""
    record, task = loaded.record, loaded.task
    member = loaded.member_for(version.submitted_by_person_id)
    recorder = member.name if member is not None else (ctx.person.name if ctx.person else "")
    findings.issue(ctx, loaded, version, recorder)
    progress.started(ctx, task, record)
    progress.after_submit(ctx, task)
    publish.refresh_cards(ctx, loaded, remint=True, editing=False, settled=version.instance_id)
    if record.state == "submitted":  # not withdrawn (redrawn) in the meantime
        publish.send_review_cards(ctx, loaded)
    tasks.publish_card(ctx, task)
    for hook in hooks.on_record_submitted:
        hook(ctx, record, version)
