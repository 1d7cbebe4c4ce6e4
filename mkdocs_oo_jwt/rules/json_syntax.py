"""json-syntax: a JSON example does not parse (reported where the parser stopped)."""

from __future__ import annotations

from .base import PageCheck


def check(ctx: PageCheck):
    for fault in ctx.extraction.faults:
        yield ctx.finding("json-syntax", fault.span, f"JSON example does not parse: {fault.message}")
