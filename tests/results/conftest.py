"""A dispatched task with one team that accepted, through the workspace (live) or directly.

Reuses the draw tests' directory: three units, certified inspectors, a scenario with two items
(门前三包责任落实检查 of the lead unit, 燃气使用安全检查 of co-unit A), teams of three.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.worker import OutboxWorker, drain
from storage.models import AssignmentMember
from tests.draw.conftest import DrawWorld, build_world, draw_world, live
from tests.draw.test_dispatch_live import approve, dispatch, staff_of

ON_SITE_DAY = {"year": 2026, "month": 12, "day": 3, "hour": 3}  # 11:00 in Beijing, first window day


@dataclass
class Team:
    assignment: int
    members: list[AssignmentMember]

    @property
    def staff(self) -> list[str]:
        return [staff_of(m) for m in self.members]

    def card(self, index: int) -> str:
        member = self.members[index]
        return f"result-{member.assignment_id}-{member.inspector_id}"


def accepted_team(live: Any, *, slot: int = 0, accept: int | None = None) -> Team:
    """Approve, dispatch, and have (the first ``accept``, default all) members of one slot accept."""
    approve(live)
    members = dispatch(live)
    assignment = sorted({m.assignment_id for m in members})[slot]
    team = [m for m in members if m.assignment_id == assignment]
    for member in team[: len(team) if accept is None else accept]:
        answer = live.click(
            staff_of(member), f"dispatch-{member.assignment_id}-{member.inspector_id}", "accept"
        )
        assert answer["status"] == 200, answer
    live.drain()
    with live.services.db.read() as session:
        fresh = list(
            session.execute(
                select(AssignmentMember)
                .where(AssignmentMember.assignment_id == assignment)
                .order_by(AssignmentMember.id)
            ).scalars()
        )
    return Team(assignment, fresh)


PLATFORM_KINDS = ("robot.group", "robot.oto", "robot.file", "card.create", "card.update", "worknotice")


def run_worker(services: Any) -> int:
    """The outbox worker without a workspace: jobs (the version's ``results.issue``, PDF
    rendering) run for real, platform calls are accepted and dropped. Returns rows done."""
    worker = OutboxWorker(services, client=None, worker_id="test-worker")  # type: ignore[arg-type]
    for kind in PLATFORM_KINDS:
        worker.performers[kind] = lambda payload, attempt: None
    return drain(worker, wait=False)


def on_site(services: Any) -> None:
    from datetime import UTC, datetime

    services.clock.set(datetime(**ON_SITE_DAY, tzinfo=UTC))


def card_params(live: Any, out: str) -> dict[str, str]:
    return dict(live.card(out)["params"])


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete, valid result with item 1 不合格 (限期) and item 2 合格."""
    values: dict[str, Any] = {
        "method": "on_site",
        "started_at": "2026-12-03 09:30",
        "ended_at": "2026-12-03 10:40",
        "place": "莲都区对象路1号",
        "present_name": "李店长",
        "present_position": "店长",
        "item_1": "fail",
        "item_1_note": "门前责任区堆放纸箱杂物，占用人行道约3平方米",
        "item_1_deadline": "2026-12-18",
        "item_2": "pass",
        "codes": "A",
        "notices": "recusal,cooperation,remedies",
        "signature": "paper",
    }
    values.update(overrides)
    return values


def submit(live: Any, staff: str, out: str, action: str = "submit", **values: Any) -> dict[str, Any]:
    """Press a button on the card as the page would: the card's ids plus the form's values."""
    params = card_params(live, out)
    body = {
        "submission_id": params["submission_id"],
        "deprecated_id": params["deprecated_id"],
        "draft_version": params["draft_version"],
        **values,
    }
    return live.click(staff, out, action, **body)


def toast(answer: dict[str, Any]) -> str:
    return answer["response"].get("userPrivateData", {}).get("cardParamMap", {}).get("toast", "")


def errors(answer: dict[str, Any]) -> dict[str, str]:
    raw = answer["response"].get("userPrivateData", {}).get("cardParamMap", {}).get("errors", "")
    return json.loads(raw) if raw else {}


def png(seed: int) -> bytes:
    """A tiny valid PNG, different for each seed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    raw = b"".join(b"\x00" + bytes([seed % 256, 80, 160] * 2) for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def png64(seed: int) -> str:
    return base64.b64encode(png(seed)).decode()


__all__ = ["DrawWorld", "build_world", "draw_world", "live"]
