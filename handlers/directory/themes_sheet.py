"""监管一件事 sheet: the themes, their scenarios, deadline and required joint inspections.

Natural key: the theme name. Claims are made in the chat (认领) by a unit admin, not by import;
the claim columns of an export are for reading and are ignored when the sheet comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.directory.cells import Cells
from handlers.directory.importing import Importer, ImportJob, Outcome
from handlers.directory.orm_import import editor_for, report_change
from handlers.directory.rules import local_today
from handlers.directory.sheets import Column, Row, SheetSpec
from handlers.directory.themes import CLAIMED_STATES, LEVEL_LABELS, STATUS_LABELS
from storage.models.directory import Scenario, Theme, ThemeScenario
from storage.models.platform import Unit

_LEVEL_WORDS = {"省级": "provincial", "省": "provincial", "本地": "local", "市级": "local", "本级": "local"}

SPEC = SheetSpec(
    kind="themes",
    title="监管一件事",
    entity_type="theme",
    key_note="按主题名称匹配：已有的更新，没有的新增。认领请在工作群里用“认领”命令办理，导入不改变认领。",
    columns=(
        Column("主题名称", "name", required=True, note="如 人行道监管一件事"),
        Column("级别", "level", note="省级 或 本地；不填为省级"),
        Column("检查场景", "scenarios", note="场景名称，多个用顿号分隔，须已导入"),
        Column("完成期限", "deadline", note="须在此日期前完成联合检查，如 2026-12-31"),
        Column("最少联合检查次数", "min_joint", note="1 至 99；不填为 1"),
        Column("启用状态", "active", note="启用 或 停用；不填为启用"),
        Column("认领单位", "claimed_by", export_only=True),
        Column("认领时间", "claimed_at", export_only=True),
        Column("当前状态", "status", export_only=True),
    ),
)
HEADERS = {
    "level": "级别",
    "scenario_ids": "检查场景",
    "deadline": "完成期限",
    "min_joint_inspections": "最少联合检查次数",
    "active": "启用状态",
}
_FIELD_OF = {
    "level": "level",
    "deadline": "deadline",
    "min_joint_inspections": "min_joint",
    "active": "active",
}


class ThemeImporter(Importer):
    spec = SPEC

    def prepare(self, job: ImportJob) -> None:
        session = job.session
        self.scenarios = {s.name: s for s in session.execute(select(Scenario)).scalars()}
        self.themes = {t.name: t for t in session.execute(select(Theme)).scalars()}
        self.seen: dict[str, int] = {}

    def parse(self, row: Row, job: ImportJob) -> dict[str, Any] | None:
        cells = Cells(row, SPEC)
        name = cells.text("name", max_len=100)
        level = cells.choice("level", _LEVEL_WORDS.get, "省级、本地", default="provincial")
        scenarios = []
        for scenario_name in cells.items("scenarios"):
            scenario = self.scenarios.get(scenario_name)
            if scenario is None:
                row.error(SPEC.column("scenarios"), f"场景「{scenario_name}」不存在，请先导入检查场景")
            else:
                scenarios.append(scenario)
        values = {
            "name": name,
            "level": level,
            "scenarios": scenarios,
            "deadline": cells.date("deadline"),
            "min_joint_inspections": cells.integer("min_joint", low=1, high=99, default=1),
            "active": cells.active(),
        }
        theme = self.themes.get(name or "")
        if (
            theme is not None
            and "deadline" in job.present
            and theme.status in CLAIMED_STATES
            and values["deadline"] != theme.deadline
        ):
            row.error(
                SPEC.column("deadline"),
                "该主题已被认领，完成期限以认领时确定的为准，不能通过导入修改",
            )
        if name and not row.errors:
            if name in self.seen:
                row.error(SPEC.column("name"), f"与第 {self.seen[name]} 行重复")
            else:
                self.seen[name] = row.number
        return None if row.errors else values

    def write(self, batch: list[tuple[Row, Any]], job: ImportJob) -> None:
        editor = editor_for(job)
        for row, values in batch:
            theme = self.themes.get(values["name"])
            if theme is None:
                theme = Theme(
                    name=values["name"],
                    level=values["level"],
                    deadline=values["deadline"],
                    min_joint_inspections=values["min_joint_inspections"],
                    status="open",
                    active=values["active"],
                )
                set_scenarios(theme, values["scenarios"])
                editor.create(theme)
                self.themes[theme.name] = theme
                job.report.add_outcome(Outcome(row.number, "create", theme.name))
                continue
            with editor.change(theme) as result:
                for key, field in _FIELD_OF.items():
                    if field in job.present:
                        setattr(theme, key, values[key])
                if "scenarios" in job.present:
                    set_scenarios(theme, values["scenarios"])
            report_change(job, row.number, theme.name, result, HEADERS)


def set_scenarios(theme: Theme, scenarios: list[Scenario]) -> None:
    wanted = [scenario.id for scenario in scenarios]
    theme.scenarios[:] = [link for link in theme.scenarios if link.scenario_id in wanted]
    have = {link.scenario_id for link in theme.scenarios}
    for scenario_id in wanted:
        if scenario_id not in have:
            theme.scenarios.append(ThemeScenario(scenario_id=scenario_id))


def export_rows(session: Session) -> Iterator[list[Any]]:
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    for theme in session.execute(select(Theme).order_by(Theme.id)).scalars():
        yield [
            theme.name,
            LEVEL_LABELS.get(theme.level, theme.level),
            "、".join(link.scenario.name for link in theme.scenarios),
            theme.deadline,
            theme.min_joint_inspections,
            "启用" if theme.active else "停用",
            units.get(theme.claimed_by_unit_id) if theme.claimed_by_unit_id else None,
            local_today(theme.claimed_at) if theme.claimed_at else None,
            STATUS_LABELS.get(theme.status, theme.status),
        ]
