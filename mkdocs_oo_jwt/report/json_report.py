"""``--format json``: one JSON object, ``{"version": 1, "findings": [...], "suppressed": [...],
"summary": {...}}``. ``suppressed`` lists what the pages' directives suppressed, each finding with
``"suppressed": {"line": <the directive's line>, "reason": <its reason="..."> or null}``; they are no
findings of the run (``summary`` does not count them but in ``summary.suppressed``).

Values are exact, with one exception: a lone surrogate (a file name's byte that is not UTF-8, as
Python holds it, or a ``\\ud800`` escape in an example) is written as its escape (``p\\xffage.md``),
because strict JSON readers refuse an unpaired ``\\udcff``. The output is ASCII (non-ASCII
characters are ``\\u`` escapes), so it survives any stdout encoding.
"""

from __future__ import annotations

import json

from ..model import Finding, RunResult
from .common import portable

VERSION = 1


def render(result: RunResult, *, color: bool = False) -> str:  # color is ignored
    doc = {
        "version": VERSION,
        "findings": [f.as_dict() for f in result.findings],
        "suppressed": [_suppressed(f) for f in result.suppressed],
        "summary": result.summary(),
    }
    return json.dumps(portable(doc), indent=2, ensure_ascii=True) + "\n"


def _suppressed(f: Finding) -> dict:
    how = f.suppressed
    return {**f.as_dict(), "suppressed": {"line": how.line if how else None, "reason": how.reason if how else None}}
