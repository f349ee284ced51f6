"""The chat text and "what changed" are pure functions of stored figures."""

from __future__ import annotations

import copy
from typing import Any

from handlers.oversight import changes, text
from handlers.oversight.metrics import Counts, Standing

LIMIT = 10


def unit(uid: int, rank: int, finished: int = 0, overdue: int = 0) -> dict[str, Any]:
    ytd = Counts(tasks_finished=finished)
    return {"id": uid, "name": f"第{uid:02d}执法大队综合行政执法中队", "rank": rank, "period": Counts().to_json(),
            "ytd": ytd.to_json(), "standing": {**Standing(rect_overdue_open=overdue).to_json()}}  # fmt: skip


def figures(units: list[dict[str, Any]], themes: int = 0, rects: int = 0) -> dict[str, Any]:
    return {
        "ytd_start": "2025-12-31T16:00:00+00:00",
        "bureau": {"period": Counts().to_json(), "ytd": Counts().to_json(), "standing": Standing().to_json()},
        "units": units,
        "themes": [
            {
                "id": n,
                "name": f"第{n}个很长很长的监管一件事主题名称",
                "unit_id": 1,
                "unit": "第01执法大队",
                "deadline": "2026-11-30",
                "required": 2,
                "done": 0,
                "status": "overdue",
                "fulfilled_on": None,
                "days_left": None,
                "days_overdue": 7,
            }
            for n in range(themes)
        ],
        "overdue_rectifications": [
            {
                "id": n,
                "unit_id": 1,
                "unit": "第01执法大队",
                "task_id": 1,
                "label": f"丽综执联查〔2026〕{n}号 某某有限公司「门前三包责任落实检查」",
                "deadline": "2026-12-01",
                "since": "2026-12-04",
                "days": 3,
            }
            for n in range(rects)
        ],
        "overdue_publications": [],
    }


def test_a_big_bureau_still_fits_one_dingtalk_markdown_message() -> None:
    data = figures([unit(n, n) for n in range(1, 31)], themes=200, rects=800)
    body = text.bulletin(
        "「综合查一次」工作进度通报（2026年第49周）", "统计期间", data, ["这是第一期通报。"], limit=LIMIT
    )
    assert len(body.encode()) < 15_000  # groupMessages/send refuses a longer msgParam
    assert "……复查逾期的整改共 800 件，详见看板" in body and "……逾期主题共 200 个，详见看板" in body


def test_rank_moves_and_new_and_cleared_overdue_items_are_reported() -> None:
    before = figures([unit(1, 1, finished=3), unit(2, 2, finished=1)], rects=2)
    after = copy.deepcopy(before)
    after["units"] = [unit(2, 1, finished=5), unit(1, 2, finished=3)]
    after["overdue_rectifications"] = [
        *before["overdue_rectifications"][1:],
        {**before["overdue_rectifications"][0], "id": 99},
    ]
    lines = changes.bureau_lines(before, after)
    assert (
        "排名变化：第02执法大队综合行政执法中队 第2名→第1名（↑1）；第01执法大队综合行政执法中队 第1名→第2名（↓1）。"
        in lines
    )
    assert "整改复查逾期：新增 1 件，已消除 1 件，现有 2 件。" in lines


def test_the_first_bulletin_and_a_new_year_say_so() -> None:
    data = figures([unit(1, 1)])
    assert changes.bureau_lines(None, data) == ["这是第一期通报，暂无上期数据可比较。"]
    last_year = {**data, "ytd_start": "2024-12-31T16:00:00+00:00"}
    assert changes.bureau_lines(last_year, data)[0].startswith("已进入新的年度")


def test_rates_print_as_people_write_them() -> None:
    assert (text.pct(None), text.pct(1.0), text.pct(0.5), text.pct(0.6667)) == ("—", "100%", "50%", "66.7%")
