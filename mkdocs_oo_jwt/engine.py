"""The engine: ``check_page`` checks one page (``explain_page`` says why), and nothing else. A run
over files and folders is ``run/``'s; nothing here prints, reads a file or walks a tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    suppressed: list[Finding] = field(default_factory=list)  # what the page's directives suppressed


def check_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret],
               fixes: bool = True) -> PageReport:
    """The page's report; ``fixes`` False: without its regenerated tokens (a run that only reports)."""
    ctx, findings, suppressed, stale = _check(page, settings, flows, secrets)
    placeholders = tuple(t.span for t in ctx.extraction.tokens if t.placeholder)
    return PageReport(findings, ctx.unsigned_roles, _fixes(ctx, stale) if fixes else [], not ctx.time_dependent,
                      placeholders, len(ctx.extraction.tokens), suppressed)


# what makes a token stale, for ``oo-jwt fix`` and a build's regenerate: one of these findings at it
# that no directive suppresses (the settings' ``disable`` only stops its report: the token is still
# stale). A token the check has nothing against is never re-signed: signed by another library (its
# JSON's key order or spacing), with a "kid" or an "iat", it is right as it is
STALE_TOKEN_RULES = frozenset({"token-malformed", "token-alg", "token-signature", "token-payload-mismatch",
                               "token-wrapper", "token-expired", "token-weak-secret"})


@dataclass
class PageExplanation:
    """What ``oo-jwt explain`` shows of one page: its samples, their pairs and attributions, and
    the findings (as ``check_page`` reports them)."""

    page: Page
    check: "PageCheck"  # extraction, pairs, attributions
    findings: list[Finding]
    suppressed: list[Finding] = field(default_factory=list)  # what the page's directives suppressed

    def samples_at(self, line: int) -> list:
        """The examples and tokens whose lines (1-based) include ``line``."""
        out = []
        for sample in [*self.check.extraction.examples, *self.check.extraction.tokens]:
            location = self.page.location(sample.span)
            if location.line <= line <= location.end_line:
                out.append(sample)
        return out


def explain_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageExplanation:
    ctx, findings, suppressed, _ = _check(page, settings, flows, secrets)
    return PageExplanation(page, ctx, findings, suppressed)


def _check(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]):
    """(the page's check, its findings, the findings its directives suppressed, the spans of its
    stale tokens: see ``STALE_TOKEN_RULES``)."""
    from .suppressions import directive_findings, suppress

    ctx, raw = _raw_findings(page, settings, flows, secrets)
    extraction = ctx.extraction
    stale = {f.span for f in raw if f.rule in STALE_TOKEN_RULES and f.span is not None
             and not any(s.covers(page.line_of(f.span.start), f.rule) for s in extraction.suppressions)}
    findings, suppressed, used = suppress(raw, extraction.suppressions, settings.disable, page)
    if any(s.whole for s in extraction.suppressions):
        # what an ``ignore`` of a whole block hides is known only by reading the block: read the
        # page again with those blocks in (once, and only for a page that has such a directive)
        audit, audit_raw = _raw_findings(page, settings, flows, secrets, keep_ignored=True)
        ctx.time_dependent |= audit.time_dependent
        whole = {s.directive for s in audit.extraction.suppressions if s.whole and s.directive is not None}
        _, hidden, credited = suppress(audit_raw, audit.extraction.suppressions, settings.disable, page)
        used |= whole & credited
        lines = {page.line_of(span.start) + 1 for span in whole}
        suppressed += with_subjects(audit, [f for f in hidden if f.suppressed and f.suppressed.line in lines])
    findings += directive_findings(page, extraction, flows.flows, used, settings.disable)
    order = lambda f: (f.location.line, f.location.column, f.rule, f.pointer or "")  # noqa: E731
    findings.sort(key=order)
    suppressed = with_subjects(ctx, [f for f in suppressed if f.subject is None]) + [f for f in suppressed if f.subject]
    suppressed.sort(key=order)
    return ctx, with_subjects(ctx, findings), suppressed, stale


def _raw_findings(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret],
                  keep_ignored: bool = False):
    """The page's check and every finding of its rules, before the directives and the settings'
    ``disable`` are applied."""
    from . import attribution
    from .extract import extract
    from .pairing import pair
    from .rules import FAMILIES
    from .rules.base import PageCheck

    extraction = extract(page, settings.max_json_depth, settings.max_samples_per_page, keep_ignored)
    try:
        version = parse_version(extraction.version or settings.version)
    except Exception:  # noqa: BLE001 - an unreadable front-matter version: the run's version
        version = parse_version(settings.version)
    ctx = PageCheck(page, extraction, flows, settings, secrets, version)
    attribution.mark_responses(extraction, flows.vocabulary)
    ctx.pairs = pair(extraction)
    ctx.attributions = attribution.attribute(flows, extraction, ctx.pairs)
    return ctx, [finding for family in FAMILIES for finding in family.check(ctx)]


# Findings about one value of an example (at their JSON pointer), not about the example as a whole:
# their message says what is wrong with that value (its type, the property it lacks, the key it
# repeats), so the message is what they are about; the rest of the example is not.
ABOUT_A_VALUE = frozenset({"schema", "json-duplicate-key"})


def with_subjects(ctx, findings: list[Finding]) -> list[Finding]:
    """Each finding with what it is about (``Finding.subject``), as a baseline keys it: a hash of
    the token's text (a token's findings, and a request's, by the token it carries); for a
    finding about one value of an example (a schema error, a duplicate key), of its message (an
    example with two defects keeps the one when the other is fixed); else of the canonical JSON
    of the example whose text holds it (a flow-unknown or flow-ambiguous example), else of the
    text of the block a JSON fault is in, else of the lines the finding covers. Never its line:
    text added above a finding leaves its subject as it was."""
    extraction, page = ctx.extraction, ctx.page
    examples: dict[int, str] = {}  # id(example) -> its subject, computed once

    def about(finding: Finding) -> str:
        span = finding.span
        for token in extraction.tokens:
            if token.span.contains(span):
                return token.text
        for example in extraction.examples:
            if example.span.contains(span):
                if finding.rule in ABOUT_A_VALUE:
                    return finding.message
                if id(example) not in examples:
                    examples[id(example)] = _canonical(example.value, page.text[example.span.start:example.span.end])
                return examples[id(example)]
        for token in extraction.tokens:  # a request's line or header: the token it carries
            request = token.request
            if request is not None and (request.span.contains(span) or any(h.line.contains(span) for h in request.headers)):
                return token.text
        for fault in extraction.faults:
            if fault.span == span:
                first, end = fault.where.lines
                return "\n".join(page.lines[first:end])
        first, last = page.line_of(span.start), page.line_of(max(span.start, span.end - 1))
        return "\n".join(page.lines[first:last + 1])

    return [f if f.span is None else f._replace(subject=_digest(about(f))) for f in findings]


def _canonical(value, text: str) -> str:
    """An example as JSON with sorted keys and no spaces (its layout is no part of it); its text
    where it cannot be written so (nested deeper than Python can follow)."""
    import json

    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    except (RecursionError, ValueError, TypeError):
        return text


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _fixes(ctx, stale: set) -> list[Fix]:
    """Regenerated tokens: the placeholders, and the tokens with a finding of ``STALE_TOKEN_RULES``
    at them (``stale``: their spans); never signed over an example that is itself wrong.

    Wrong means: it breaks its flow's base schema (a wrong type, value or missing parameter). The
    version rules (from 7.1, every listed editor-config parameter) say what more the example should
    list; they stay reported, but signing over the example as written is still right."""
    from .signing import regenerate
    from .tokens import Malformed, decode

    fixes = []
    for token in ctx.extraction.tokens:
        if not token.placeholder and token.span not in stale:
            continue  # nothing wrong with it
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
