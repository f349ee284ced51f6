"""Card template specs (``cards/templates/<key>.json``) and the one way to fill them.

On DingTalk a card is a template designed in the card platform plus a ``cardParamMap`` whose
values are all strings. A spec documents the variables and buttons a deployer must build, drives
the local workspace's renderer, and is enforced here: ``render`` refuses undeclared variables and
turns lists, dicts and booleans into the strings the platform expects.

Spec format (JSON):

```
{
  "key": "task_negotiation",            # = file name
  "description": "...",                 # English, for deployers
  "variables": {"title": {"kind": "text", "description": "..."}, ...},
  "layout": [                           # what the card shows, top to bottom
    {"type": "header", "text": "${title}", "status": "${status}"},
    {"type": "markdown", "text": "${body}"},
    {"type": "fields", "source": "fields"},        # JSON [{"label": .., "value": ..}]
    {"type": "table", "source": "rows", "columns": [{"key": "unit", "label": "单位"}]},
    {"type": "image", "source": "qr", "alt": "行政行为码"},
    {"type": "form", "visible_if": "can_edit", "fields": [
        {"name": "reason", "kind": "text|textarea|select|multiselect|date|datetime|number|checkbox",
         "label": "理由", "required": true, "options": [{"value": "a", "label": "A"}],
         "options_source": "scenario_options", "default_source": "reason_default",
         "label_source": "item_1_label", "visible_if": "item_1_on"}],
     "submit": {"actionId": "submit", "label": "提交", "style": "primary|danger"}},
    {"type": "actions", "buttons": [{"actionId": "accept", "label": "接受", "style": "primary",
                                      "visible_if": "can_answer", "params": {"k": "v"}}]}
  ]
}
```

Buttons send their ``params`` (``${var}`` placeholders filled from the card) plus the values of
the form right above them, so a "提出修改" button can carry the comment typed into that form.
A leading ``!`` in ``visible_if`` negates it. A form field may take its label from a variable
(``label_source``, falling back to ``label``) and be shown only while a variable holds
(``visible_if``): a template can declare a fixed number of rows (say eight inspection items) of
which each card uses as many as it needs, labelled with the real item names.

Variable kinds: ``text``, ``markdown``, ``bool`` ("true"/"false"), ``list`` and ``object`` (JSON
text), ``image`` (a media id or data URL). Every card also has the private variables ``toast``
and ``errors`` (JSON object field -> message) that the bot sets for the user who clicked.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

PRIVATE_VARIABLES = ("toast", "errors")
VARIABLE_KINDS = ("text", "markdown", "bool", "list", "object", "image")
BLOCK_TYPES = ("header", "markdown", "fields", "table", "image", "form", "actions", "note")
FIELD_KINDS = ("text", "textarea", "select", "multiselect", "date", "datetime", "number", "checkbox")


class SpecError(ValueError):
    """A template spec or a parameter map that does not fit its spec."""


@cache
def load(key: str) -> dict[str, Any]:
    """Load and check one spec. Cached: specs are part of the code, not data."""
    try:
        text = resources.files("cards.templates").joinpath(f"{key}.json").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"no card template spec named {key!r}") from exc
    spec = json.loads(text)
    check_spec(spec, key)
    return spec


def keys() -> list[str]:
    names = [
        entry.name for entry in resources.files("cards.templates").iterdir() if entry.name.endswith(".json")
    ]
    return sorted(name[: -len(".json")] for name in names)


def check_spec(spec: dict[str, Any], key: str) -> None:
    if spec.get("key") != key:
        raise SpecError(f"spec {key}: 'key' must equal the file name")
    variables = spec.get("variables")
    if not isinstance(variables, dict):
        raise SpecError(f"spec {key}: 'variables' must be an object")
    for name, info in variables.items():
        if name in PRIVATE_VARIABLES:
            raise SpecError(f"spec {key}: {name!r} is a reserved private variable")
        if not isinstance(info, dict) or info.get("kind") not in VARIABLE_KINDS:
            raise SpecError(f"spec {key}: variable {name!r} needs a kind among {VARIABLE_KINDS}")
    action_ids: set[str] = set()
    for block in spec.get("layout", []):
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            raise SpecError(f"spec {key}: unknown block type {kind!r}")
        for ref in _references(block):
            if ref not in variables:
                raise SpecError(f"spec {key}: block {kind} refers to undeclared variable {ref!r}")
        if kind == "form":
            for field in block.get("fields", []):
                if field.get("kind") not in FIELD_KINDS:
                    raise SpecError(f"spec {key}: form field {field.get('name')!r} has bad kind")
            action_ids.add(block["submit"]["actionId"])
        if kind == "actions":
            for button in block.get("buttons", []):
                action_ids.add(button["actionId"])
    spec["_action_ids"] = sorted(action_ids)


def _references(block: dict[str, Any]) -> list[str]:
    refs: list[str] = []
    for field_name in ("source", "visible_if"):
        if block.get(field_name):
            refs.append(block[field_name].lstrip("!"))
    for text_field in ("text", "status"):
        value = block.get(text_field, "")
        refs.extend(_placeholders(value))
    for button in block.get("buttons", []):
        if button.get("visible_if"):
            refs.append(button["visible_if"].lstrip("!"))
    for field in block.get("fields", []):
        for name in ("options_source", "default_source", "visible_if", "label_source"):
            if field.get(name):
                refs.append(field[name].lstrip("!"))
    return refs


def _placeholders(text: str) -> list[str]:
    found = []
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            break
        found.append(text[start + 2 : end])
        start = text.find("${", end)
    return found


def action_ids(key: str) -> list[str]:
    return list(load(key)["_action_ids"])


def to_param(value: Any) -> str:
    """The string form of one variable value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(key: str, **values: Any) -> dict[str, str]:
    """Build a cardParamMap for template ``key``. Undeclared names raise ``SpecError``."""
    spec = load(key)
    declared = spec["variables"]
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise SpecError(f"card {key}: undeclared variables {unknown}")
    return {name: to_param(value) for name, value in values.items()}


def check_params(key: str, params: dict[str, Any]) -> None:
    """Check an already-built map (used by tests and by the workspace)."""
    spec = load(key)
    for name, value in params.items():
        if name not in spec["variables"] and name not in PRIVATE_VARIABLES:
            raise SpecError(f"card {key}: undeclared variable {name!r}")
        if not isinstance(value, str):
            raise SpecError(f"card {key}: variable {name!r} must be a string")


def truthy(value: str | None) -> bool:
    """How a ``visible_if`` variable is read: empty, "false" and "0" are false."""
    return bool(value) and value not in ("false", "0", "[]", "{}")
