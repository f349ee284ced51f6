"""How a card looks to a person: its header text and status, read through its template spec.

Cards whose ``cardTemplateId`` is not ``chayici.<key>.schema`` (or whose key has no spec) are
shown raw: the ``title``/``status`` parameters if present, plus every parameter.
"""

from __future__ import annotations

import re
from typing import Any

from cards import spec as card_spec

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def fill(template: str, params: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: params.get(match.group(1), ""), template)


def template_spec(card: dict[str, Any]) -> dict[str, Any] | None:
    key = card.get("templateKey")
    if not key:
        return None
    try:
        return card_spec.load(key)
    except card_spec.SpecError:
        return None


def headline(card: dict[str, Any], viewer: str | None = None) -> dict[str, Any]:
    """Title and status as ``viewer`` sees them (public params overlaid with their private ones)."""
    params = {**card["params"], **(card["private"].get(viewer, {}) if viewer else {})}
    spec = template_spec(card)
    title, status = params.get("title", ""), params.get("status", "")
    if spec is not None:
        for block in spec.get("layout", []):
            if block.get("type") == "header":
                title = fill(block.get("text", ""), params)
                status = fill(block.get("status", ""), params)
                break
    return {
        "templateKey": card.get("templateKey"),
        "specKnown": spec is not None,
        "title": title,
        "status": status,
    }
