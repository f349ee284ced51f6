"""Through the workspace: a card submission answers the clicked copy at once; the version's job
then brings every copy, the review card and the task card up to date with the document numbers,
without undoing what a teammate did on their copy in between (修改结果)."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import InspectionRecord
from tests.results.conftest import accepted_team, answers, card_params, on_site, submit, toast


def test_the_job_refreshes_every_copy_and_keeps_a_copy_already_built_on_the_new_version(
    live, services, draw_world
):
    team = accepted_team(live)
    assert len(team.members) >= 3
    on_site(services)
    before = [card_params(live, team.card(n)) for n in range(3)]

    answer = submit(live, team.staff[0], team.card(0), **answers())
    assert "已提交第1版" in toast(answer) and "正在生成" in toast(answer), answer
    mine = card_params(live, team.card(0))  # the callback answer: the clicked copy, at once
    assert mine["status"] == "已提交（第1版）" and mine["editing"] == "false"
    assert mine["submission_id"] != before[0]["submission_id"] and "正在生成" in mine["summary"]
    edit = live.click(team.staff[1], team.card(1), "edit")  # a teammate, before the job ran
    assert "第2版" in toast(edit), edit
    theirs = card_params(live, team.card(1))
    assert theirs["editing"] == "true" and theirs["deprecated_id"] == mine["deprecated_id"]

    live.drain()
    after = [card_params(live, team.card(n)) for n in range(3)]
    for params in after:
        assert params["status"] == "已提交（第1版）" and "丽综执检记〔2026〕1号" in params["summary"]
        assert (
            "丽综执责改〔2026〕1号" in params["summary"] and params["deprecated_id"] == mine["deprecated_id"]
        )
    assert after[0]["submission_id"] == mine["submission_id"] and after[0]["editing"] == "false"
    assert after[1]["submission_id"] == theirs["submission_id"] and after[1]["editing"] == "true"
    assert (
        after[2]["submission_id"] not in ("", before[2]["submission_id"]) and after[2]["editing"] == "false"
    )

    with services.db.read() as session:
        record = session.execute(select(InspectionRecord)).scalar_one()
    review = card_params(live, f"review-{record.id}-{draw_world.lead_admin_person}")
    assert "丽综执检登〔2026〕1号" in review["documents"] and review["can_review"] == "true"
    progress = {r["label"]: r["value"] for r in json.loads(live.card("task-1")["params"]["progress"])}
    assert progress["结果已提交"] == "1/4"
