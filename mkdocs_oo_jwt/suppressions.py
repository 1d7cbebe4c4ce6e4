"""Suppressions that stay honest: which findings a page's directives suppress, and the directives
that suppress nothing or cannot be read.

A finding covered by several directives (an ``ignore`` inside a ``disable`` region) is credited to
the narrowest one (fewest lines; then the one that names its rule): a directive no finding is
credited to suppresses nothing, and is reported where it is written (``unused-suppression``), as
ruff reports an unused ``# noqa``. A comment meant for oo-jwt that cannot be read, or a ``flow=``
no schema defines, is ``directive-invalid``. Neither can be suppressed by a directive (a
``disable`` above a mistyped ``enable`` would hide the very mistake); the settings' ``disable``
turns them off like any rule.
"""

from __future__ import annotations

import difflib
import re
from typing import Iterable

from .catalog import RULES
from .model import Finding, Span, Suppressed
from .page import Page
from .samples import Extraction, Suppression

UNUSED = "unused-suppression"
INVALID = "directive-invalid"


def suppress(raw: Iterable[Finding], suppressions: list[Suppression], disabled: frozenset[str],
             page: Page) -> tuple[list[Finding], list[Finding], set[Span]]:
    """(the findings kept, those a directive suppressed (each with ``suppressed`` set), the spans of
    the directives credited with one). Findings of a rule the settings disable, and repeats, are
    dropped: they are no finding, and no directive is credited with them."""
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[Span] = set()
    seen: set[Finding] = set()
    for finding in raw:
        if finding.rule in disabled or finding in seen:
            continue
        seen.add(finding)
        line = finding.location.line - 1
        covering = [s for s in suppressions if s.covers(line, finding.rule)]
        if not covering:
            kept.append(finding)
            continue
        chosen = min(covering, key=lambda s: (s.end - s.first, not s.rules))
        where = 0
        if chosen.directive is not None:
            used.add(chosen.directive)
            where = page.line_of(chosen.directive.start) + 1
        suppressed.append(finding._replace(suppressed=Suppressed(where, chosen.reason)))
    return kept, suppressed, used


def directive_findings(page: Page, extraction: Extraction, flow_ids: Iterable[str], used: set[Span],
                       disabled: frozenset[str]) -> list[Finding]:
    """``directive-invalid`` for each directive that cannot be read or names an unknown flow, and
    ``unused-suppression`` for each ignore, disable or enable that suppresses (or ends) nothing.
    A directive in a part of the page that was not read (``page-partly-checked``) is not judged."""
    flows = sorted(flow_ids)
    out = [_finding(page, INVALID, m.span, m.message) for m in extraction.misread]
    for span, flow in extraction.flow_directives:
        if flow not in flows:
            close = difflib.get_close_matches(flow, flows, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (see the flows in README, or your flows_dir)"
            out.append(_finding(page, INVALID, span, f"unknown flow '{flow}'{hint}: the example below it is "
                                                     "checked against no flow"))
    cut = min((u.span.start for u in extraction.unread), default=len(page.text) + 1)
    reported: set[Span] = set()
    for s in extraction.suppressions:
        span = s.directive
        if span is None or span in used or span in reported or span.start >= cut:
            continue
        reported.add(span)
        out.append(_finding(page, UNUSED, span, _unused(s, disabled)))
    return [f for f in out if f.rule not in disabled]


def _unused(s: Suppression, disabled: frozenset[str]) -> str:
    written = f"'<!-- oo-jwt: {s.text} -->'"
    if s.text.split()[:1] == ["enable"]:
        return f"{written} ends no disable: remove it"
    if s.first >= s.end and s.text.split()[:1] == ["ignore"]:
        return f"{written} has no block after it to ignore: remove it"
    if s.rules and s.rules <= disabled:
        return f"{written} suppresses nothing: its rules are turned off by the settings' disable"
    return f"{written} suppresses no finding: remove it"


def _finding(page: Page, rule: str, span: Span, message: str) -> Finding:
    return Finding(rule, RULES[rule].severity, page.path, page.location(span), message, span=span)


# ------------------------------------------------------------------ --add-ignore: the directives to write

# Rules an ``ignore`` directive is not the answer to: the directives' own rules (fix the directive),
# and what belongs to no block (a page that cannot be read, a bug, a part not read).
NOT_IGNORED = frozenset({UNUSED, INVALID, "page-unreadable", "internal-error", "page-partly-checked"})
_CONTAINER = re.compile(r"(?:[ \t]*>)*")  # the blockquote markers a line starts with
_FENCE = re.compile(r"[ \t]*(?:```|~~~)")


def ignore_lines(page: Page, extraction: Extraction, findings: Iterable[Finding]) -> dict[int, str]:
    """The ``ignore`` directives that suppress ``findings`` (those of a rule an ignore can take, in
    a block of the page): 0-based line -> the directive line to put above it, written as the
    block's container needs (its blockquote markers and indent; an indented code block's indent
    less the 4 spaces that make it code)."""
    rules_at: dict[int, set[str]] = {}
    for finding in findings:
        if finding.rule in NOT_IGNORED:
            continue
        line = finding.location.line - 1
        block = next((b for b in extraction.blocks if b[1] <= line < b[2]), None)
        if block is not None:
            rules_at.setdefault(block[0], set()).add(finding.rule)
    kinds = {b[0]: b[3] for b in extraction.blocks}
    out = {}
    for anchor, rules in rules_at.items():
        text = page.lines[anchor]
        quote = _CONTAINER.match(text).group()
        indent = text[len(quote):len(text) - len(text[len(quote):].lstrip(" \t"))]
        if kinds.get(anchor) == "code" and not _FENCE.match(text[len(quote):]) and len(indent.expandtabs(4)) >= 4:
            indent = " " * (len(indent.expandtabs(4)) - 4)
        out[anchor] = f"{quote}{indent}<!-- oo-jwt: ignore rule={','.join(sorted(rules))} -->"
    return out


def with_lines(page: Page, lines: dict[int, str]) -> str:
    """The page's text with ``lines`` put above the 0-based lines they are keyed by; every other
    character as it was (each new line ends as the line below it does, or as the page's first)."""
    text, starts = page.text, page.line_starts
    first_end = next((m.group() for m in re.finditer(r"\r\n?|\n", text)), "\n")
    parts, at = [], 0
    for line in sorted(lines):
        start = starts[line]
        end = start + len(page.lines[line])
        ending = text[end:starts[line + 1]] if line + 1 < len(starts) else first_end
        parts += [text[at:start], lines[line], ending or first_end]
        at = start
    parts.append(text[at:])
    return "".join(parts)
