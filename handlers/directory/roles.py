"""Roles a person holds in the bot, as the directory sets them.

A unit admin administers one unit and an inspector works for one, so those two roles are scoped
to the person's unit (``PersonRole.unit_id``); leader, auditor and system admin are bureau-wide.
"""

from __future__ import annotations

from bot.dispatch import ROLE_LABELS
from storage.models.platform import ROLE_INSPECTOR, ROLE_UNIT_ADMIN, Person, PersonRole

UNIT_SCOPED_ROLES = (ROLE_INSPECTOR, ROLE_UNIT_ADMIN)
_WORDS = {label: role for role, label in ROLE_LABELS.items()}
_WORDS.update({"检查人员": ROLE_INSPECTOR, "执法人员": ROLE_INSPECTOR, "管理员": ROLE_UNIT_ADMIN})


def parse_role(word: str) -> str | None:
    """A role from its Chinese label (执法检查人员, 单位管理员, 局领导, 审计员, 系统管理员)."""
    text = word.strip()
    return text if text in ROLE_LABELS else _WORDS.get(text)


def set_roles(person: Person, roles: list[str], unit_id: int) -> None:
    """Make the person's roles exactly ``roles``, keeping the rows that stay (their ids, history)."""
    wanted = {(role, unit_id if role in UNIT_SCOPED_ROLES else None) for role in roles}
    person.roles[:] = [held for held in person.roles if (held.role, held.unit_id) in wanted]
    have = {(held.role, held.unit_id) for held in person.roles}
    for role, scope in sorted(wanted - have, key=lambda pair: pair[0]):
        person.roles.append(PersonRole(role=role, unit_id=scope))
