"""A cheap look at a page's bytes: can it hold a sample at all? Only pages that can are parsed.

It must never skip a page on which the full check would find something (a test runs the golden
pages with and without it and compares every finding). A sample comes from a JWT, a token key or
placeholder, a directive, a JSON value in a code block, an HTTP message, or a request to a flow's
endpoint (a request written as code with no token is a flow's only there): each has its mark.
"""

from __future__ import annotations

import re

from ..flows import FlowRegistry

# Each mark is one regular expression starting with a literal, which the regex engine looks for as
# fast as ``bytes.find`` (a scan of a page for marks it does not hold is most of the cost: most
# pages hold none).
_SAMPLE_MARKS = (
    # a fence: a json one, an http one, or one whose first line opens a JSON value (one mark
    # for each fence character, so each starts with its literal)
    re.compile(rb"```(?:[ \t]*+(?:json|https?\b|rest\b)|[^\n`]*+\r?\n[ \t>]*+[\[{])"),
    re.compile(rb"\n[ \t]*+\r?\n(?: {4}|\t)[ \t]*+[\[{]"),  # an indented code block opening a JSON value
    re.compile(rb"HTTP/1\.[01]"),  # an HTTP message: its request or status line
)
# a "~~~" fence: looked for only on a page holding a "~" at all (a search for one byte is a
# third of a search for three; one page in a thousand holds a "~")
_TILDE_FENCE = re.compile(rb"~~~(?:[ \t]*+(?:json|https?\b|rest\b)|[^\n~]*+\r?\n[ \t>]*+[\[{])")


# Marks whose first letters are common ("e", "o", "t"): a rarer part of every match ("yJ", "jwt", "ken"), at a
# fixed offset from its start, is looked for first, and the mark from there (the first anchor is
# at most that offset past the first match): a third of their scans' cost on a tree of prose.
_ANCHORED_MARKS = (
    # a JWT: its header's run of base64url ends at a dot, at the end of its line (a token broken
    # over lines), or where a token's text ends; not at "+", "/" or "=" (an "eyJ" inside base64
    # data, such as an image's, where a token cannot be), unless a dot follows (a token made with
    # standard base64 and its padding, a classic mistake: "eyJhbGciOiAiSFMyNTYifQ==.eyJ...")
    (re.compile(rb"yJ"), 1, re.compile(rb"eyJ(?:[A-Za-z0-9_-]*+(?![+/=])|[A-Za-z0-9_+/=-]*+\.)")),
    (re.compile(rb"jwt"), 3, re.compile(rb"oo[-_]jwt")),  # a directive, placeholder or front matter of this tool
    # a "token" property or key holding a string (a token holder's token is a string literal)
    (re.compile(rb"ken"), 2, re.compile(rb"token(?:(?<=[\"']token)[\"'])?[ \t]*+:\s*+[rRbBuUfF]{0,2}[\"'`]")),
)


def may_hold_samples(data: bytes, flows: FlowRegistry) -> bool:
    """A cheap look at the bytes: can this page hold an example or a token at all?"""
    for anchor, offset, mark in _ANCHORED_MARKS:
        first = anchor.search(data)
        if first is not None and mark.search(data, max(first.start() - offset, 0)):
            return True
    for mark in _SAMPLE_MARKS:
        if mark.search(data):
            return True
    if b"~" in data and _TILDE_FENCE.search(data):
        return True
    return flows.endpoint_at_end is not None and flows.endpoint_at_end.search(data) is not None
