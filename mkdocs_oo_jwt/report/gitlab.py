"""``--format gitlab``: a GitLab Code Quality report (the Code Climate subset GitLab reads): a JSON
array with one issue per finding, ``description``, ``check_name`` (the rule id), ``fingerprint``,
``severity`` and ``location.path`` + ``location.lines.begin``.

The fingerprint is what GitLab compares between the branch's report and the target's to tell a
new finding from an old one: a sha256 of the path (relative to the repository's top folder when
known), the rule, the flow, the JSON pointer and what the finding is about (``Finding.subject``:
a hash of the token's text or the example's canonical JSON; the message where there is none),
never the line, so text added above a finding leaves its fingerprint as it was. Identical
findings of one page get an occurrence number. Severities: error -> major, warning -> minor,
info -> info. Findings a directive suppressed are not listed (Code Quality has no suppression).
The JSON is ASCII; messages are shown as people read them (``common.visible``).
"""

from __future__ import annotations

import hashlib
import json

from ..model import Finding, RunResult, Severity
from .common import forward_slashes, portable, rooted, visible, without_surrogates

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def fingerprint(f: Finding, path: str, occurrence: int = 0) -> str:
    parts = [path, f.rule, f.flow or "", f.pointer or "", f.subject or f.message]
    if occurrence:
        parts.append(str(occurrence))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def render(result: RunResult, *, color: bool = False, root: str | None = None,
           cwd: str | None = None) -> str:  # color is ignored
    """The report; ``root`` and ``cwd`` (absolute) make each path relative to the top folder."""
    issues, seen = [], {}
    for f in result.findings:
        path = rooted(f.path, root, cwd) or forward_slashes(f.path)
        key = fingerprint(f, path)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        issues.append({
            "type": "issue",
            "description": visible(f.message),
            "check_name": f.rule,
            "categories": ["Bug Risk"],
            "fingerprint": fingerprint(f, path, occurrence),
            "severity": SEVERITY[f.severity],
            "location": {"path": without_surrogates(path), "lines": {"begin": max(1, f.location.line)}},
        })
    return json.dumps(portable(issues), indent=2, ensure_ascii=True) + "\n"
