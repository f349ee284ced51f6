"""Legal documents machinery: numbers, PDFs with the Chinese text in them, content-addressed
storage, the worker's render job, and numbers under concurrency (PostgreSQL)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.context import JobContext
from cards.documents import fonts, render_pdf
from handlers import documents
from handlers.documents import store
from handlers.documents.jobs import render_document
from handlers.draw import dispatch, service
from storage.models import Document, OutboxMessage, Unit
from tests.draw.conftest import context, make_task

FIELDS = {
    "issuer_name": "丽水市综合行政执法局",
    "object_name": "丽水市莲都区好味道餐饮有限公司",
    "uscc": "91331102MA28XXXX0K",
    "address": "莲都区中山街100号",
    "window": "2026年12月3日至2026年12月4日",
    "planned_day": "2026年12月3日",
    "method": "实地核查",
    "basis": "《浙江省综合行政执法条例》第十一条",
    "items": ["门前三包责任落实检查", "燃气使用安全检查"],
    "inspectors": [
        {"name": "陈立", "unit": "市容环境卫生监管处", "cert": "33110001"},
        {"name": "周敏", "unit": "市政公用监管处", "cert": "33110011"},
    ],
    "task_number": "丽综执联查〔2026〕1号",
    "code": "ABCD EFGH IJKL MNOP QRST UVWX",
    "issued_date": "2026年12月1日",
}


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; cannot extract the PDF's text")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def job_context(services, outbox_id: int = 1) -> JobContext:
    return JobContext(
        db=services.db,
        settings=services.settings,
        client=None,  # type: ignore[arg-type]
        audit_log=services.audit_log,
        now=services.clock.now(),
        attempt=1,
        outbox_id=outbox_id,
    )


def test_a_rendered_notice_contains_the_chinese_fields(tmp_path):
    text = pdf_text(render_pdf("inspection_notice", "丽综执检通〔2026〕7号", FIELDS), tmp_path)
    compact = "".join(text.split())
    for expected in (
        "行政检查通知书",
        "丽综执检通〔2026〕7号",
        "丽水市莲都区好味道餐饮有限公司",
        "检查时间2026年12月3日至2026年12月4日",
        "《浙江省综合行政执法条例》第十一条",
        "门前三包责任落实检查",
        "陈立",
        "33110011",
        "有权申请其回避",
        "第1页共1页",
    ):
        assert expected in compact, expected


def test_the_pdf_embeds_an_installed_cjk_font_or_falls_back_to_stsong(tmp_path, monkeypatch):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "a.pdf"
    path.write_bytes(render_pdf("inspection_notice", "X〔2026〕1号", FIELDS))
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    installed = next((p for p in fonts.KNOWN_CJK_FONTS if Path(p).is_file()), None)
    if installed:
        assert any(line.split()[-5:-3] == ["yes", "yes"] for line in listing.splitlines()[2:] if "+" in line)
    monkeypatch.setattr(fonts, "KNOWN_CJK_FONTS", ())
    fonts.cjk_font.cache_clear()
    try:
        path.write_bytes(
            render_pdf("inspection_notice", "X〔2026〕1号", FIELDS, font_path="/nonexistent.ttf")
        )
    finally:
        fonts.cjk_font.cache_clear()
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "STSong-Light" in listing


def test_numbers_are_sequential_per_issuer_code_and_year_and_a_voided_number_is_never_reused(
    services, clock, draw_world
):
    with services.db.write() as session:
        ctx = context(services, session)
        unit = session.get(Unit, draw_world.lead)
        first = documents.issue(ctx, kind="inspection_notice", issuer_unit=unit, fields=FIELDS)
        second = documents.issue(ctx, kind="inspection_notice", issuer_unit=unit, fields=FIELDS)
        documents.void(ctx, second, "检查人员变更")
        third = documents.issue(ctx, kind="inspection_notice", issuer_unit=unit, fields=FIELDS)
        other = documents.issue(ctx, kind="rectify_order", issuer_unit=unit, fields={})
        numbers = [first.number, second.number, third.number, other.number]
        with pytest.raises(ValueError):
            documents.void(ctx, third, "")
    assert numbers == [
        "丽综执检通〔2026〕1号",
        "丽综执检通〔2026〕2号",
        "丽综执检通〔2026〕3号",
        "丽综执责改〔2026〕1号",
    ]
    with services.db.read() as session:
        voided = session.get(Document, second.id)
        jobs = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "document.render")).scalars()
        )
    assert voided.voided and voided.void_reason == "检查人员变更" and voided.number.endswith("2号")
    assert len(jobs) == 4


def test_the_render_job_stores_the_pdf_by_its_hash_once_and_sends_it_once(services, clock, draw_world):
    with services.db.write() as session:
        ctx = context(services, session)
        unit = session.get(Unit, draw_world.lead)
        document = documents.issue(
            ctx, kind="inspection_notice", issuer_unit=unit, fields=FIELDS, send_to=["insp-l1", "insp-a1"]
        )
        payload = {"document_id": document.id, "send_to": ["insp-l1", "insp-a1"], "file_name": "通知书.pdf"}
    first = render_document(job_context(services), payload)
    again = render_document(job_context(services), payload)
    assert first == again
    with services.db.read() as session:
        stored = session.get(Document, document.id)
        sends = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "robot.file")).scalars()
        )
    data = store.read(services.settings.data_dir, stored.file_path, stored.sha256)
    assert (
        stored.file_path == f"documents/{first[:2]}/{first}.pdf" and hashlib.sha256(data).hexdigest() == first
    )
    assert stored.size == len(data) and stored.state == "rendered"
    assert len(sends) == 1 and sends[0].payload["userIds"] == ["insp-l1", "insp-a1"]
    (Path(services.settings.data_dir) / stored.file_path).write_bytes(data + b"x")
    with pytest.raises(ValueError):
        store.read(services.settings.data_dir, stored.file_path, stored.sha256)


@pytest.mark.postgres
def test_two_tasks_dispatched_at_the_same_moment_never_share_a_document_number(services, clock, draw_world):
    if not services.db.is_postgres:
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE), so two allocations cannot overlap there")
    with services.db.write() as session:
        ids = []
        for _ in range(2):
            task = make_task(session, draw_world, clock.now(), count=3)
            service.draw_task(context(services, session), task, seed=f"seed-{task.id}")
            ids.append(task.id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(task_id: int) -> None:
        try:
            barrier.wait()
            with services.db.write() as session:
                task = session.get(service.Task, task_id, with_for_update={"of": service.Task})
                dispatch.dispatch_task(
                    context(services, session, person_id=draw_world.lead_admin_person), task
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(task_id,)) for task_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with services.db.read() as session:
        rows = list(session.execute(select(Document.seq, Document.number, Document.task_id)).all())
    assert sorted(seq for seq, _, _ in rows) == list(range(1, 7))
    assert len({number for _, number, _ in rows}) == 6
    assert {task for _, _, task in rows} == set(ids)
