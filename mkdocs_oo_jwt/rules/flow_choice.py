"""The choice of a flow, when it is not clear-cut.

flow-ambiguous: the chosen flow won over another by less than one piece of evidence; both are
named, with the directive that settles it. flow-unknown (for an example with no token): its keys
are the flows' keys, but no evidence reaches a flow. (A token of no flow gets its flow-unknown
from the token rules.)
"""

from __future__ import annotations

from ..attribution import THRESHOLD, Attribution, closest
from ..samples import Example, Token
from .base import PageCheck


def check(ctx: PageCheck):
    signed = {id(example) for example in ctx.pairs.values() if example is not None}
    samples: list[Example | Token] = [*ctx.extraction.examples]
    samples += [t for t in ctx.extraction.tokens if ctx.attribution(t) is not ctx.attribution(ctx.pairs.get(id(t)) or t)]
    for sample in samples:
        attribution = ctx.attribution(sample)
        if attribution.ambiguous:
            (best, score), (second, other) = attribution.scores[0], attribution.scores[1]
            yield ctx.finding(
                "flow-ambiguous", sample.span,
                f"attributed to {best} (evidence {score:.1f}) over {second} ({other:.1f}); "
                f"if it is {second}, say so with <!-- oo-jwt: flow={second} --> above it "
                f"(oo-jwt explain shows the evidence)",
                attribution.flow,
            )
        elif (
            isinstance(sample, Example) and attribution.flow is None and id(sample) not in signed
            and not sample.response and _keys_belong(ctx, sample, attribution)
        ):
            yield ctx.finding(
                "flow-unknown", sample.span,
                f"example of no known flow: its keys are the flows' keys, but no evidence settles which "
                f"({closest(attribution)}); add <!-- oo-jwt: flow=... --> above it to check it",
            )


def _keys_belong(ctx: PageCheck, example: Example, attribution: Attribution) -> bool:
    """Every key of the example is a key of some flow, the closest flow knows two of them at least
    (one key, such as a title, is any API's), and they speak for it at least half as much as a
    choice needs."""
    params = example.params
    if not isinstance(params, dict) or attribution.best is None or attribution.best[1] < THRESHOLD / 2:
        return False
    closest_flow = ctx.flows.get(attribution.best[0])
    known = ctx.flows.vocabulary.key_weight
    return all(key in known for key in params) and sum(key in closest_flow.known_keys for key in params) >= 2
