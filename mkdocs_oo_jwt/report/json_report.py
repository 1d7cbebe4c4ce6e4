"""``--format json``: one JSON object, ``{"version": 1, "findings": [...], "summary": {...}}``."""

from __future__ import annotations

import json

from ..model import RunResult

VERSION = 1


def render(result: RunResult, *, color: bool = False) -> str:  # color is ignored
    doc = {
        "version": VERSION,
        "findings": [f.as_dict() for f in result.findings],
        "summary": result.summary(),
    }
    return json.dumps(doc, indent=2) + "\n"
