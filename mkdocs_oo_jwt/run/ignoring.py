"""``oo-jwt check --add-ignore``: put an ``ignore rule=...`` directive above every block that has
an error or a warning, as ``ruff --add-noqa`` does, so that a tree can adopt the gate today and
fix its pages later (each directive is reported as ``unused-suppression`` once its block is right).

Exactly the directive lines are added: every other byte of the page is kept, and the page is
written as ``oo-jwt fix`` writes (``fixer.write_atomic``: a temporary file beside it, renamed over
it, nothing another program writes meanwhile lost). Before a page is written its new text is
checked: a directive that would not hold (a block whose container cannot take a comment line
above it) is left out and the page named, never written in a way that changes its findings
otherwise. A second run adds nothing. Notes (info) get no directive: they never fail a run.
Nothing here prints.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..engine import explain_page
from ..flows import FlowRegistry, load_flows
from ..model import Finding, Severity
from ..page import Page
from ..settings import Secret, Settings, for_file, secrets_from_env
from ..suppressions import NOT_IGNORED, ignore_lines, with_lines
from .files import read_page
from .fixer import Replaced, write_atomic
from .walk import Unlistable, discover_entries

_SETTLE_POLL = 0.002  # how often a written page's old file is looked at until it is final


@dataclass
class IgnoreRun:
    """What ``--add-ignore`` did: the directives added per page shown, and the pages it could not
    (fully) do, each with why."""

    added: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.added.values())


def add_ignores(paths: Iterable[str], settings: Settings, environ=None) -> IgnoreRun:
    """Add the directives to every page under ``paths`` (the pages ``check`` would check)."""
    secrets = secrets_from_env(settings, environ)
    flows = load_flows(settings.flows_dirs)
    run = IgnoreRun()
    for file, shown, entry in discover_entries(paths, settings):
        if isinstance(entry, Unlistable):
            continue  # check reports it; there is no page to write to
        own = for_file(settings, file)
        page = read_page(Path(file), shown, own)
        if isinstance(page, Finding):
            continue  # unreadable: check reports it
        new_text, added, left = _with_ignores(page, own, flows, secrets)
        if left:
            run.problems.append(f"{shown}: no directive could be put above line{'s' if len(left) > 1 else ''} "
                                f"{', '.join(str(n + 1) for n in left)} (add one by hand)")
        if not added:
            continue
        outcome = write_atomic(Path(file), page.encode(), page.encode(new_text))
        if isinstance(outcome, Replaced):
            while not outcome.final():
                time.sleep(_SETTLE_POLL)
            failed = outcome.settle()
            if failed is None:
                run.added[shown] = added
                continue
            outcome = failed
        run.problems.append(f"{shown}: {outcome.reason.replace('fixed', 'changed')}")
    return run


def _with_ignores(page: Page, settings: Settings, flows: FlowRegistry,
                  secrets: dict[str, Secret]) -> tuple[str, int, list[int]]:
    """(the page's text with the directives, how many were added, the 0-based lines of blocks that
    would need one but could not be given one that holds)."""
    before = explain_page(page, settings, flows, secrets)
    wanted = [f for f in before.findings if f.severity >= Severity.WARNING and f.rule not in NOT_IGNORED]
    lines = ignore_lines(page, before.check.extraction, wanted)
    blocks = before.check.extraction.blocks
    anchor_of = {id(f): next((b[0] for b in blocks if b[1] <= f.location.line - 1 < b[2]), None) for f in wanted}
    tried = dict(lines)
    while lines:
        text = with_lines(page, lines)
        targeted = {id(f) for f in wanted if anchor_of[id(f)] in lines}
        bad = _not_holding(page, before.findings, targeted, text, lines, settings, flows, secrets)
        if not bad:
            return text, len(lines), sorted(set(tried) - set(lines))
        lines = {n: line for n, line in lines.items() if n not in bad}
    return page.text, 0, sorted(tried)


def _rules(directive: str) -> set[str]:
    return set(re.search(r"rule=(\S+) -->", directive).group(1).split(","))


def _not_holding(page: Page, findings: list[Finding], targeted: set[int], text: str, lines: dict[int, str],
                 settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> set[int]:
    """The directives (by the line they were put above) that do not do their work in ``text``: one
    that is not read as a directive, suppresses nothing, or leaves a finding of its block's rules
    in place. Every one, when the other findings of the page change (a directive that split a
    list or a paragraph changed what the text around an example says of its flow)."""
    after = explain_page(Page(page.path, text, page.bom, page.place), settings, flows, secrets)
    shift = [0] * (len(page.lines) + 1)  # old line -> the directives put above it or above a line before it
    for n in lines:
        for m in range(n, len(shift)):
            shift[m] += 1
    directive_at = {n + shift[n] - 1: n for n in lines}  # the new text's line of each directive
    blocks = {b[0]: (b[1], b[2]) for b in after.check.extraction.blocks}  # anchor -> lines, in the new text
    bad = {directive_at[f.location.line - 1] for f in after.findings if f.location.line - 1 in directive_at}
    for f in after.findings:
        line = f.location.line - 1
        for n in lines:
            first, end = blocks.get(n + shift[n], (-1, -1))
            if first <= line < end and f.rule in _rules(lines[n]):
                bad.add(n)
    key = lambda f: (f.rule, f.pointer, f.flow, str(f.severity))  # noqa: E731 - what a shift of lines leaves alone
    left = Counter(key(f) for f in findings if id(f) not in targeted)
    now = Counter(key(f) for f in after.findings if f.location.line - 1 not in directive_at)
    if not bad and left != now:
        return set(lines)
    return bad
