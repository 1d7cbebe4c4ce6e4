"""schema: an example payload breaks its flow's JSON Schema.

Reported at the offending value, once per value (the most telling of its errors: a string
status is "not of type integer", not also "not one of"); missing properties once per object
that lacks them, at that object, with its JSON pointer. An example that nothing but its own keys attributes (no token, no
request, no text naming the flow) may be a fragment of a payload: what it has is checked, what
it lacks is not.
"""

from __future__ import annotations

from ..extract.jsondoc import pointer_token
from .base import PageCheck


def check(ctx: PageCheck):
    for example in ctx.extraction.examples:
        attribution = ctx.attribution(example)
        flow = attribution.flow
        if flow is None:
            continue
        response = example.response
        if response and not flow.response:
            continue
        # The 7.1 list says which parameters a signature must cover: a payload example (the JSON
        # a "Sample token" signs) must list them all; a config that carries its own token is held
        # to it through the token-payload comparison instead (what it sets must be signed).
        version = (0,) if example.token_holder else ctx.version
        base = "/payload" if example.wrapped else ""
        wrong, lacking = ctx.flows.problems(flow, version, example.params, response=response)
        for path, message in wrong:  # one finding per value: the most telling of its errors
            pointer = base + _pointer(path)
            yield ctx.finding("schema", example.span_of(pointer), f"{pointer or '/'}: {message}", flow, pointer)
        missing: dict[str, list[str]] = {}
        for path, names in lacking:
            relative = _pointer(path)
            if relative in example.open or attribution.fragment:
                continue  # the elision may hold the missing members; a fragment shows only a part
            missing.setdefault(base + relative, []).extend(names)
        for pointer, names in missing.items():
            names = sorted(set(names))
            what = "property" if len(names) == 1 else "properties"
            since = " (from 7.1 every listed parameter must be present and signed)" if flow.since else ""
            yield ctx.finding(
                "schema",
                example.span_of(pointer),
                f"{pointer or '/'}: missing required {what} {', '.join(repr(n) for n in names)}{since}",
                flow,
                pointer,
            )


def _pointer(path: list) -> str:
    return "".join(f"/{pointer_token(str(p))}" for p in path)
