"""Replaying recorded draws: does the stored snapshot still hash to the recorded pool hash, and
does the algorithm, run on that snapshot with the recorded seed, give the recorded result?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from handlers.draw import algorithm
from handlers.draw.canonical import canonical_bytes, unpack
from handlers.draw.service import records_of
from storage.models import DrawRecord
from storage.models.tasks import Task

KIND_LABELS = {"full": "整体抽取", "slot": "单户重抽", "replacement": "补抽"}


@dataclass(frozen=True)
class Check:
    record_id: int
    kind: str
    state: str
    ok: bool
    problem: str = ""

    def line(self) -> str:
        label = KIND_LABELS.get(self.kind, self.kind)
        state = "（已作废）" if self.state == "superseded" else ""
        verdict = "一致" if self.ok else f"不一致：{self.problem}"
        return f"第 {self.record_id} 号抽取记录 {label}{state}：{verdict}"


def check(row: DrawRecord) -> Check:
    def fail(problem: str) -> Check:
        return Check(row.id, row.kind, row.state, False, problem)

    try:
        snapshot, digest = unpack(row.snapshot)
    except ValueError:
        return fail("快照无法读取")
    if digest != row.pool_hash:
        return fail(f"快照哈希为 {digest[:16]}…，与记录的 {row.pool_hash[:16]}… 不符，快照已被改动")
    if snapshot.get("algorithm") != row.algorithm_version:
        return fail(f"快照的算法版本 {snapshot.get('algorithm')} 与记录的 {row.algorithm_version} 不符")
    if snapshot.get("kind") != row.kind:
        return fail("快照的抽取类型与记录不符")
    try:
        result = algorithm.draw(snapshot, row.seed)
    except algorithm.DrawError as exc:
        return fail(f"按快照和种子重算失败（{exc}）")
    if canonical_bytes(result) != canonical_bytes(row.result):
        return fail("按快照和种子重算的结果与记录的结果不同")
    return Check(row.id, row.kind, row.state, True)


def verify_task(session: Session, task: Task) -> list[Check]:
    return [check(row) for row in records_of(session, task.id)]


def report(task: Task, checks: list[Check]) -> tuple[bool, str]:
    if not checks:
        return False, f"{task.number} 没有抽取记录。"
    ok = all(c.ok for c in checks)
    head = f"{task.number} 共 {len(checks)} 条抽取记录，" + ("全部重算一致。" if ok else "存在不一致！")
    return ok, "\n".join([head, *(c.line() for c in checks)])
