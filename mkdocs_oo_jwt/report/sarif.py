"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning (``upload-sarif``).

Any file name and any message give a valid document in any stdout encoding: the uri holds the
file name's own bytes percent-encoded (a name that is not UTF-8 included), messages are shown as
people read them (``common.visible``: no terminal escapes, bidi controls...), every other string
is free of lone surrogates, and the JSON is ASCII.

Given the repository's top folder (``root``) and the folder the run started in (``cwd``), each
uri is relative to the top folder with ``"uriBaseId": "%SRCROOT%"``, and ``originalUriBaseIds``
says where ``%SRCROOT%`` is: a run started in a subfolder (``cd docs && oo-jwt check .``) still
names ``docs/page.md``, as code scanning resolves it. Findings a directive suppressed are results
too, with ``suppressions: [{"kind": "inSource", "justification": <reason>}]`` (code scanning shows
them as dismissed). In a run against a baseline each finding has its ``baselineState``: "new", or
"unchanged" for one the baseline holds (listed with ``--show-baselined``).
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from .. import __version__
from ..catalog import RULES
from ..model import Finding, RunResult
from .common import SARIF_LEVEL, forward_slashes, portable, rooted, utf8_bytes, visible

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "oo-jwt"
INFORMATION_URI = "https://github.com/ONLYOFFICE-docs-tools/mkdocs-oo-jwt"
FINGERPRINT_KEY = "ooJwtFinding/v1"
SRCROOT = "%SRCROOT%"

_DRIVE = re.compile(r"^[A-Za-z]:/")


def _rule_name(rule_id: str) -> str:
    """``token-weak-secret`` -> ``TokenWeakSecret`` (SARIF names are identifier-like)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


def _descriptor(rule_id: str) -> dict:
    rule = RULES.get(rule_id)
    doc = rule.doc if rule is not None else f"Rule {rule_id}."
    entry = {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": doc},
        "fullDescription": {"text": doc},
        "help": {"text": doc},
    }
    if rule is not None:
        entry["defaultConfiguration"] = {"level": SARIF_LEVEL[rule.severity]}
    return entry


# Kept literally: unreserved characters, "/" and the sub-delims. Everything else, ":" (which
# could pass for a scheme), "#", "?", "%", spaces and non-ASCII included, is percent-encoded
# (UTF-8; a file name's bytes that are not UTF-8 as they are) so the uri is a valid RFC 3986
# reference that decodes back to the path's bytes.
_URI_SAFE = "/!$&'()*+,;=@"


def _uri(path: str) -> str:
    """The path as a URI reference: relative paths stay relative, absolute ones become file URIs."""
    p = forward_slashes(path)
    if p.startswith("/"):
        return "file://" + quote(utf8_bytes(p), safe=_URI_SAFE)
    if _DRIVE.match(p):
        return "file:///" + p[:2] + quote(utf8_bytes(p[2:]), safe=_URI_SAFE)
    return quote(utf8_bytes(p), safe=_URI_SAFE)


def _root_uri(root: str) -> str:
    """The top folder as an absolute file URI ending with ``/`` (SARIF's rule for a base id)."""
    p = forward_slashes(root).rstrip("/") + "/"
    if _DRIVE.match(p):
        return "file:///" + p[:2] + quote(utf8_bytes(p[2:]), safe=_URI_SAFE)
    return "file://" + quote(utf8_bytes(p), safe=_URI_SAFE)


def fingerprint(f: Finding, occurrence: int = 0, path: str | None = None) -> str:
    """sha256 of rule, path, pointer and message: survives edits that only move lines.

    ``occurrence`` tells apart identical findings of one page (0 for the first, which
    leaves the hash input unchanged). ``path``: the path relative to the top folder, when known
    (the same whichever folder the run started in).
    """
    parts = [f.rule, forward_slashes(path if path is not None else f.path), f.pointer or "", f.message]
    if occurrence:
        parts.append(str(occurrence))
    # surrogatepass: a lone surrogate (a file name's byte that is not UTF-8) hashes too; any other
    # text gives the same bytes as UTF-8, so fingerprints of earlier runs still match
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _region(f: Finding) -> dict:
    loc = f.location
    start_line = max(1, loc.line)
    start_col = max(1, loc.column)
    end_line = max(start_line, loc.end_line)
    end_col = max(1, loc.end_column)
    if end_line == start_line:
        end_col = max(start_col, end_col)
    return {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col}


def render(result: RunResult, *, color: bool = False, root: str | None = None,
           cwd: str | None = None) -> str:  # color is ignored
    """The SARIF log; ``root`` and ``cwd`` (absolute) make the uris relative to ``%SRCROOT%``."""
    findings = [*result.findings, *result.suppressed]
    rule_ids = list(dict.fromkeys(RULES))
    # A finding of a rule the catalog does not know still needs a valid ruleIndex.
    rule_ids += list(dict.fromkeys(f.rule for f in findings if f.rule not in RULES))
    index = {rid: i for i, rid in enumerate(rule_ids)}

    seen: dict[str, int] = {}
    results = []
    for f in findings:
        relative = rooted(f.path, root, cwd)
        key = fingerprint(f, path=relative)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        artifact = {"uri": _uri(f.path)} if relative is None else {"uri": _uri(relative), "uriBaseId": SRCROOT}
        entry = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": visible(f.message, keep_lines=True)},
            "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": _region(f)}}],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, occurrence, relative)},
        }
        props = {k: v for k, v in (("flow", f.flow), ("pointer", f.pointer)) if v is not None}
        if props:
            entry["properties"] = props
        if result.baselined is not None and f.suppressed is None:  # a run against a baseline
            entry["baselineState"] = "unchanged" if f.baselined else "new"
        if f.suppressed is not None:
            suppression: dict = {"kind": "inSource", "status": "accepted"}
            if f.suppressed.reason:
                suppression["justification"] = visible(f.suppressed.reason, keep_lines=True)
            if f.suppressed.line >= 1:
                suppression["location"] = {"physicalLocation": {"artifactLocation": artifact,
                                                                "region": {"startLine": f.suppressed.line}}}
            entry["suppressions"] = [suppression]
        results.append(entry)

    invocation = {
        "executionSuccessful": True,
        "toolExecutionNotifications": [
            {"level": SARIF_LEVEL[n.severity], "message": {"text": visible(n.message, keep_lines=True)}}
            for n in result.notices
        ],
    }
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": INFORMATION_URI,
                        "version": __version__,
                        "rules": [_descriptor(rid) for rid in rule_ids],
                    }
                },
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    if root and cwd:
        doc["runs"][0]["originalUriBaseIds"] = {SRCROOT: {"uri": _root_uri(root)}}
    return json.dumps(portable(doc), indent=2, ensure_ascii=True) + "\n"
