"""A cheap look at a page's bytes: can it hold a sample at all? Only pages that can are parsed."""

from __future__ import annotations

import re

from ..flows import FlowRegistry

# A page can hold a sample only if its bytes hold one of these marks (or a flow endpoint at the end
# of a URL path). Each is one regular expression starting with a literal, which the regex engine
# looks for as fast as ``bytes.find`` (a scan of a page for marks it does not hold is most of the
# cost: most pages hold none).
_SAMPLE_MARKS = (
    re.compile(rb"eyJ"),  # a JWT
    re.compile(rb"token(?<=[\"']token)[\"']|token:"),  # a "token" property or key
    re.compile(rb"oo[-_]jwt"),  # a directive, placeholder or front matter of this tool
    re.compile(rb"json(?<=```json|~~~json)|json(?<=``` json)"),  # a json fence
)


def may_hold_samples(data: bytes, flows: FlowRegistry) -> bool:
    """A cheap look at the bytes: can this page hold an example or a token at all?"""
    for mark in _SAMPLE_MARKS:
        if mark.search(data):
            return True
    return flows.endpoint_at_end is not None and flows.endpoint_at_end.search(data) is not None
