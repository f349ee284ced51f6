"""The whole on-site result, through the workspace: accept, two pictures in the 1:1 chat, the card
filled with one 不合格 item, submitted twice, edited once, reviewed by the lead."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from sqlalchemy import select

from handlers.results.blobs import open_store
from storage.models import Document, Evidence, Finding, InspectionRecord, RecordVersion, Rectification
from storage.models.tasks import Task
from tests.results.conftest import accepted_team, answers, card_params, on_site, png, png64, submit, toast


def test_accept_pictures_submit_twice_edit_and_review_make_versions_documents_and_an_order(
    live, services, draw_world
):
    team = accepted_team(live)
    lead_staff = team.staff[0]
    card = team.card(0)
    first = card_params(live, card)
    assert first["status"] == "填写中" and first["editing"] == "true" and first["item_2_on"] == "true"
    assert first["item_3_on"] == "false" and first["item_1_label"] == "1. 门前三包责任落实检查"
    assert "/form/" in first["form_link"]

    on_site(services)
    for seed in (1, 2):
        sent = live.send_media(lead_staff, "picture", png64(seed), f"现场{seed}.png", "image/png")
        assert sent["status"] == 200, sent
    live.drain()

    shown = card_params(live, card)
    body = {k: shown[k] for k in ("submission_id", "deprecated_id", "draft_version")} | answers()
    answer = live.click(lead_staff, card, "submit", **body)
    assert answer["status"] == 200 and "已提交第1版" in toast(answer), answer
    again = live.click(lead_staff, card, "submit", **body)  # redelivered at once: answered from the inbox
    assert again["response"] == answer["response"]
    services.clock.advance(minutes=15)  # the same press arriving late: the submission id decides
    late = live.click(lead_staff, card, "submit", **body)
    assert "已收到（第1版）" in toast(late), late
    live.drain()
    with services.db.read() as session:
        assert len(session.execute(select(RecordVersion)).scalars().all()) == 1

    edit = live.click(lead_staff, card, "edit")
    assert "第2版" in toast(edit)
    edited = submit(
        live, lead_staff, card, **answers(item_1_note="门前责任区堆放纸箱杂物，占用人行道约5平方米")
    )
    assert "已提交第2版" in toast(edited), edited
    live.drain()

    with services.db.read() as session:
        record = session.execute(select(InspectionRecord)).scalar_one()
        versions = list(session.execute(select(RecordVersion).order_by(RecordVersion.version)).scalars())
        evidence = list(session.execute(select(Evidence).order_by(Evidence.id)).scalars())
        docs = list(
            session.execute(
                select(Document).where(Document.kind != "inspection_notice").order_by(Document.id)
            ).scalars()
        )
        findings = list(session.execute(select(Finding).order_by(Finding.id)).scalars())
        rects = list(session.execute(select(Rectification).order_by(Rectification.id)).scalars())
        task = session.execute(select(Task)).scalar_one()
    assert [v.version for v in versions] == [1, 2] and versions[1].deprecated_id == versions[0].instance_id
    assert [v.current for v in versions] == [False, True] and record.version == 2
    assert len(evidence) == 2 and all(e.record_id == record.id and e.state == "stored" for e in evidence)
    store = open_store(services.settings)
    for seed, row in zip((1, 2), evidence, strict=True):
        assert row.sha256 == hashlib.sha256(png(seed)).hexdigest()
        assert hashlib.sha256(store.get(row.storage_key, row.sha256)).hexdigest() == row.sha256
    assert versions[0].evidence == [e.id for e in evidence]
    kinds = [(d.kind, d.number, d.voided) for d in docs]
    assert ("rectify_order", "丽综执责改〔2026〕1号", True) in kinds
    assert ("rectify_order", "丽综执责改〔2026〕2号", False) in kinds
    assert ("site_record", "丽综执检记〔2026〕1号", True) in kinds and (
        "site_record",
        "丽综执检记〔2026〕2号",
        False,
    ) in kinds
    assert ("registration", "丽综执检登〔2026〕1号", True) in kinds and (
        "registration",
        "丽综执检登〔2026〕2号",
        False,
    ) in kinds
    assert all(d.sha256 and d.state == "rendered" for d in docs)
    assert [f.current for f in findings] == [False, True]
    assert [r.state for r in rects] == ["cancelled", "ordered"] and rects[
        1
    ].deadline_day.isoformat() == "2026-12-18"
    assert task.state == "in_progress"  # one of four objects submitted

    inspector_chat = live.messages(live.private_cid(lead_staff))
    files = [m["content"].get("fileName", "") for m in inspector_chat if m.get("msgKey") == "sampleFile"]
    assert any("责令限期改正通知书" in f for f in files) and any("现场检查记录" in f for f in files)

    review = live.click(
        "lead-admin", f"review-{record.id}-{draw_world.lead_admin_person}", "approve", version="2"
    )
    assert "审核通过" in toast(review), review
    live.drain()
    with services.db.read() as session:
        assert session.get(InspectionRecord, record.id).state == "reviewed"
    assert card_params(live, card)["status"] == "已审核"
    progress = {r["label"]: r["value"] for r in json.loads(live.card("task-1")["params"]["progress"])}
    assert progress["结果已提交"] == "1/4" and progress["结果已审核"] == "1/4"

    order = next(d for d in docs if d.number == "丽综执责改〔2026〕2号")
    text = subprocess.run(
        ["pdftotext", "-layout", str(Path(services.settings.data_dir) / order.file_path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for phrase in ("责令限期改正通知书", "经查", "违反了", "行政处罚法", "2026年12月18日", "收到", "5平方米"):
        assert phrase in text.replace(" ", ""), phrase
