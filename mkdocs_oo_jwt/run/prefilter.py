"""A cheap look at a page's bytes: can it hold a sample at all? Only pages that can are parsed.

It must never skip a page on which the full check would find something (a test runs the golden
pages with and without it and compares every finding). A sample comes from a JWT, a token key or
placeholder, a directive, a JSON value in a code block, an HTTP message, a request to a flow's
endpoint, or a request whose body holds the required key of a flow that has no endpoint (a
callback's status): each has its mark below.
"""

from __future__ import annotations

import re

from ..flows import FlowRegistry

# Each mark is one regular expression starting with a literal, which the regex engine looks for as
# fast as ``bytes.find`` (a scan of a page for marks it does not hold is most of the cost: most
# pages hold none).
_SAMPLE_MARKS = (
    re.compile(rb"eyJ"),  # a JWT
    re.compile(rb"token(?<=[\"']token)[\"']|token:"),  # a "token" property or key
    re.compile(rb"oo[-_]jwt"),  # a directive, placeholder or front matter of this tool
    re.compile(rb"json(?<=```json|~~~json)|json(?<=``` json)"),  # a json fence
    re.compile(rb"```[^\n`]*+\r?\n[ \t>]*+[\[{]"),  # a fence whose first line opens a JSON value
    re.compile(rb"~~~[^\n~]*+\r?\n[ \t>]*+[\[{]"),
    re.compile(rb"\n[ \t]*+\r?\n(?: {4}|\t)[ \t]*+[\[{]"),  # an indented code block opening one
    re.compile(rb"HTTP/1\.[01]"),  # an HTTP message: its request or status line, or an http fence
    re.compile(rb"```[ \t]*+(?:https?|rest)\b"),
    re.compile(rb"~~~[ \t]*+(?:https?|rest)\b"),
)
# a request written as code (each literal first, as the marks above)
_REQUEST_CALLS = (re.compile(rb"curl\b"), re.compile(rb"requests\.\w+\("), re.compile(rb"httpx\.\w+\("))


def may_hold_samples(data: bytes, flows: FlowRegistry) -> bool:
    """A cheap look at the bytes: can this page hold an example or a token at all?"""
    for mark in _SAMPLE_MARKS:
        if mark.search(data):
            return True
    if flows.endpoint_at_end is not None and flows.endpoint_at_end.search(data) is not None:
        return True
    if flows.body_key is None or flows.body_key.search(data) is None:
        return False
    return any(call.search(data) for call in _REQUEST_CALLS)
