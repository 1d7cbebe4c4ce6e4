"""``oo-jwt explain PATH[:LINE]``: why a page is (or is not) clean.

For every example and token of the page (or those at one line): its span, the flow it was given
and the evidence that decided it (with the runner-up's), what each token signs, and the findings
that are its own. Plain text, for a writer to read; nothing here checks anything.
"""

from __future__ import annotations

import math

from .attribution import Attribution, closest
from .engine import PageExplanation
from .model import Finding, Span
from .samples import Example, Token

MAX_EVIDENCE = 12  # lines of evidence shown per flow (the strongest)


def render(explanation: PageExplanation, line: int | None = None) -> str:
    ctx, page = explanation.check, explanation.page
    samples: list[Example | Token] = sorted(
        [*ctx.extraction.examples, *ctx.extraction.tokens], key=lambda s: (s.span.start, isinstance(s, Token))
    )
    findings = _by_sample(samples, explanation.findings)
    if line is not None:
        at = {id(s) for s in explanation.samples_at(line)}
        samples = [s for s in samples if id(s) in at]
    out: list[str] = []
    for sample in samples:
        out += _sample(explanation, sample, findings.get(id(sample), []))
        out.append("")
    if line is None:
        rest = findings.get(0, [])
        if rest:
            out.append("findings of the page itself:")
            out += [f"  {_finding(f)}" for f in rest]
            out.append("")
        if not ctx.extraction.examples and not ctx.extraction.tokens:
            out.append(f"{page.path}: no example and no token on this page")
    elif not samples:
        out.append(f"{page.path}:{line}: no example and no token at this line")
    return "\n".join(out).rstrip("\n") + "\n"


def _where(page, span: Span) -> str:
    loc = page.location(span)
    return f"{page.path}:{loc.line}:{loc.column}-{loc.end_line}:{loc.end_column}"


def _at(page, span: Span) -> str:
    loc = page.location(span)
    return f"{loc.line}:{loc.column}"


def _sample(explanation: PageExplanation, sample: Example | Token, own: list[Finding]) -> list[str]:
    ctx, page = explanation.check, explanation.page
    attribution = ctx.attribution(sample)
    out: list[str] = []
    if isinstance(sample, Example):
        what = [sample.source]
        what += ["response"] * sample.response + ["partial"] * sample.partial + ["wrapped in payload"] * sample.wrapped
        out.append(f"{_where(page, sample.span)} example ({', '.join(what)})")
        signers = [t for t in ctx.extraction.tokens if ctx.pairs.get(id(t)) is sample]
        if signers:
            out.append("  signed by: " + ", ".join(f"the {t.place} token at {_at(page, t.span)}" for t in signers))
        out += _flow(attribution, ctx.flows)
    else:
        out.append(f"{_where(page, sample.span)} token ({sample.place}{', placeholder' if sample.placeholder else ''})")
        example = ctx.pairs.get(id(sample))
        if example is not None and ctx.attribution(example) is attribution:
            out.append(f"  signs: the example at {_at(page, example.span)}")
            flow = attribution.flow.id if attribution.flow else "none"
            out.append(f"  flow: {flow} (its example's)")
        else:
            signs = f"the example at {_at(page, example.span)}" if example is not None else "no example (unpaired)"
            out.append(f"  signs: {signs}")
            out += _flow(attribution, ctx.flows)
    if own:
        out.append("  findings:")
        out += [f"    {_finding(f)}" for f in own]
    else:
        out.append("  findings: none")
    return out


def _flow(attribution: Attribution, flows) -> list[str]:
    if attribution.decided_by and attribution.decided_by != "evidence":
        name = attribution.flow.id if attribution.flow else "an unknown flow"
        what = next((e.what for e in attribution.evidence if e.weight == math.inf), "")
        return [f"  flow: {name} (certain: {attribution.decided_by} {what})"]
    out = []
    if attribution.flow is None:
        out.append(f"  flow: none ({closest(attribution)})")
    else:
        score = attribution.scores[0][1]
        runner = attribution.runner_up
        versus = f"; runner-up {runner[0]} {runner[1]:.1f}" if runner else "; no other flow could be it"
        fragment = "; a fragment: what it lacks is not reported" if attribution.fragment else ""
        out.append(f"  flow: {attribution.flow.id} (evidence {score:.1f}{versus}{fragment})")
    shown = [f for f, _ in attribution.scores[:2]]
    for flow_id in shown:
        evidence = sorted(attribution.evidence_for(flow_id), key=lambda e: -abs(e.weight))[:MAX_EVIDENCE]
        out.append(f"  evidence for {flow_id}:")
        out += [f"    {e.weight:+5.1f} {e.kind} {e.what}" for e in evidence]
    return out


def _finding(f: Finding) -> str:
    return f"{f.location.line}:{f.location.column} {f.severity} {f.rule}: {f.message}"


def _by_sample(samples: list, findings: list[Finding]) -> dict[int, list[Finding]]:
    """id(sample) -> its findings: the innermost sample whose span holds the finding (or whose
    request line it is); 0 -> the findings of no sample."""
    out: dict[int, list[Finding]] = {}
    for finding in findings:
        span = finding.span
        holders = [s for s in samples if span is not None and s.span.contains(span)]
        if not holders and span is not None:
            holders = [s for s in samples if isinstance(s, Token) and s.request is not None and s.request.span.contains(span)]
        holder = min(holders, key=lambda s: (s.span.end - s.span.start, isinstance(s, Example))) if holders else None
        out.setdefault(id(holder) if holder is not None else 0, []).append(finding)
    return out
