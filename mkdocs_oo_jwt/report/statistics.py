"""``--statistics``: how many findings of each rule, the most frequent first (then by rule id):
where a tree's defects are, at a glance. A row is a rule and a severity, the findings' own (a
rule's findings need not all be of its usual severity: a token of no known flow is only a note),
so the rows add up to the summary line's counts. Baselined findings are not counted; what
directives suppressed is one line after."""

from __future__ import annotations

from collections import Counter

from ..model import RunResult
from .common import plural


def render(result: RunResult) -> str:
    counts = Counter((f.rule, f.severity) for f in result.findings if not f.baselined)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], -item[0][1]))
    width = max((len(str(n)) for _, n in rows), default=1)
    name = max((len(rule) for (rule, _), _ in rows), default=0)
    lines = [f"{n:>{width}}  {rule:<{name}}  {severity}" for (rule, severity), n in rows]
    if not rows:
        lines.append("no findings")
    if result.suppressed:
        lines.append(f"{plural(len(result.suppressed), 'finding')} suppressed by directives")
    return "\n".join(lines) + "\n"
