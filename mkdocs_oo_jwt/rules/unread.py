"""page-partly-checked: a bound on the work was reached, and part of the page was not checked."""

from __future__ import annotations

from .base import PageCheck


def check(ctx: PageCheck):
    for unread in ctx.extraction.unread:
        yield ctx.finding("page-partly-checked", unread.span, unread.reason)
