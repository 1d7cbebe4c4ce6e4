"""json-syntax: a JSON example does not parse (reported where the parser stopped);
json-duplicate-key: an object repeats a key (a token signs one value, readers see two)."""

from __future__ import annotations

from .base import PageCheck


def check(ctx: PageCheck):
    for fault in ctx.extraction.faults:
        yield ctx.finding("json-syntax", fault.span, f"JSON example does not parse: {fault.message}", ctx.flow_of(fault))
    for example in ctx.extraction.examples:
        for pointer, span in example.duplicates:
            key = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            yield ctx.finding(
                "json-duplicate-key", span,
                f"{pointer}: key {key!r} appears more than once in its object; a token signs one value (JSON readers keep the last)",
                ctx.flow_of(example), pointer,
            )
