"""The engine: ``check_page`` checks one page (``explain_page`` says why), and nothing else. A run
over files and folders is ``run/``'s; nothing here prints, reads a file or walks a tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .flows import FlowRegistry, parse_version
from .model import Finding, Fix, Span
from .page import Page
from .settings import Secret, Settings

if TYPE_CHECKING:
    from .rules.base import PageCheck

# The checking machinery (markdown-it, tree-sitter, jsonschema, PyJWT) is imported on the first
# page that needs it: a run whose pages all come from the cache, or hold no sample, never loads it.

@dataclass
class PageReport:
    findings: list[Finding]
    unsigned_roles: set[str]
    fixes: list[Fix]  # a freshly signed token for every stale or placeholder token (needs secrets)
    cacheable: bool = True  # False when findings depend on the clock (a token with exp or nbf)
    placeholders: tuple[Span, ...] = ()  # every <oo-jwt> placeholder token of the page
    tokens: int = 0  # the page's sample tokens, placeholders included (a build's summary counts them)


def check_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageReport:
    ctx, findings = _check(page, settings, flows, secrets)
    placeholders = tuple(t.span for t in ctx.extraction.tokens if t.placeholder)
    return PageReport(findings, ctx.unsigned_roles, _fixes(ctx), not ctx.time_dependent, placeholders,
                      len(ctx.extraction.tokens))


@dataclass
class PageExplanation:
    """What ``oo-jwt explain`` shows of one page: its samples, their pairs and attributions, and
    the findings (as ``check_page`` reports them)."""

    page: Page
    check: "PageCheck"  # extraction, pairs, attributions
    findings: list[Finding]

    def samples_at(self, line: int) -> list:
        """The examples and tokens whose lines (1-based) include ``line``."""
        out = []
        for sample in [*self.check.extraction.examples, *self.check.extraction.tokens]:
            location = self.page.location(sample.span)
            if location.line <= line <= location.end_line:
                out.append(sample)
        return out


def explain_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageExplanation:
    ctx, findings = _check(page, settings, flows, secrets)
    return PageExplanation(page, ctx, findings)


def _check(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]):
    from . import attribution
    from .extract import extract
    from .pairing import pair
    from .rules import FAMILIES
    from .rules.base import PageCheck

    extraction = extract(page, settings.max_json_depth, settings.max_samples_per_page)
    try:
        version = parse_version(extraction.version or settings.version)
    except Exception:  # noqa: BLE001 - an unreadable front-matter version: the run's version
        version = parse_version(settings.version)
    ctx = PageCheck(page, extraction, flows, settings, secrets, version)
    ctx.pairs = pair(extraction)
    ctx.attributions = attribution.attribute(flows, extraction, ctx.pairs)

    raw = [finding for family in FAMILIES for finding in family.check(ctx)]
    findings, seen = [], set()
    for finding in raw:
        if finding.rule in settings.disable or finding in seen:
            continue
        seen.add(finding)
        line = finding.location.line - 1
        if any(s.covers(line, finding.rule) for s in extraction.suppressions):
            continue
        findings.append(finding)
    findings.sort(key=lambda f: (f.location.line, f.location.column, f.rule, f.pointer or ""))
    return ctx, findings


def _fixes(ctx) -> list[Fix]:
    """Regenerated tokens, never signed over an example that is itself wrong.

    Wrong means: it breaks its flow's base schema (a wrong type, value or missing parameter). The
    version rules (from 7.1, every listed editor-config parameter) say what more the example should
    list; they stay reported, but signing over the example as written is still right."""
    from .signing import regenerate
    from .tokens import Malformed, decode

    fixes = []
    for token in ctx.extraction.tokens:
        flow, example = ctx.flow_of(token), ctx.pairs.get(id(token))
        if flow is None or flow.opaque or example is None or example.partial:
            continue  # a partial example (elisions, expressions) cannot be signed over
        secret = ctx.secrets.get(flow.role or "")
        if secret is None or next(ctx.flows.validator(flow, (0,)).iter_errors(example.params), None):
            continue
        line = ctx.page.line_of(token.span.start)
        if any(s.covers(line, "token-payload-mismatch") for s in ctx.extraction.suppressions):
            continue
        actual = None
        if not token.placeholder:
            try:
                actual = decode(token.text).payload
            except Malformed:
                pass
        fix = regenerate(token, actual, example, flow, secret.reveal(), ctx.settings.keep_claims)
        if fix is not None:
            fixes.append(fix)
    return fixes
