"""samples -> flows: which flow an example or a token belongs to.

In order: an explicit directive, the HTTP request line, the text it sits under (lead-in sentences,
list-item leads, headings: nearest first), the page's front-matter flow, then the payload's shape
(the flow whose schema fits best, so that a defective example still lands in the right flow).
"""

from __future__ import annotations

import re
from typing import Any

from .extract.code import request_path_host
from .flows import Flow, FlowRegistry
from .samples import Example, Request, Where


def by_request(flows: FlowRegistry, request: Request | None) -> Flow | None:
    if request is None or request.is_response:
        return None
    path = request_path_host(request)[0].lower().rstrip("/")
    if not path:
        return None
    if not path.startswith("/"):
        path = "/" + path
    for flow in flows.flows.values():
        for endpoint in flow.endpoints:
            if path.endswith(endpoint.lower().rstrip("/")):
                return flow
    return None


def _hint_patterns(flows: FlowRegistry) -> tuple[tuple[re.Pattern, bool, dict[str, Flow]], ...]:
    """Every flow's hints in two patterns (one search per text, not one per hint): method names
    (with capitals) as case-sensitive words, phrases case-insensitively. Longer hints first, so
    that at one position the longest hint matches; each hint maps to the first flow that has it."""
    memo = flows.__dict__.get("_hint_patterns")
    if memo is None:
        exact: dict[str, Flow] = {}
        folded: dict[str, Flow] = {}
        for flow in flows.flows.values():
            for hint in flow.hints:
                table = exact if hint != hint.lower() else folded
                table.setdefault(hint if table is exact else hint.lower(), flow)
        memo = tuple(
            (re.compile(rf"(?<![\w.])(?:{'|'.join(re.escape(h) for h in sorted(table, key=len, reverse=True))})(?!\w)",
                        re.I if fold else 0), fold, table)
            for table, fold in ((exact, False), (folded, True))
            if table
        )
        flows.__dict__["_hint_patterns"] = memo
    return memo


def by_text(flows: FlowRegistry, texts: tuple[str, ...]) -> Flow | None:
    """The flow named earliest in the nearest text that names one (at one place, the longest name)."""
    patterns = _hint_patterns(flows)
    for text in texts:
        best: tuple[int, int, Flow] | None = None
        for pattern, fold, table in patterns:
            m = pattern.search(text)
            if m:
                hint = m.group()
                flow = table[hint.lower() if fold else hint]
                if best is None or (m.start(), -len(hint)) < best[:2]:
                    best = (m.start(), -len(hint), flow)
        if best:
            return best[2]
    return None


def by_shape(flows: FlowRegistry, value: Any, version: tuple[int, ...]) -> Flow | None:
    """The flow whose schema fits the example best (memoised: pages repeat their examples)."""
    import json

    try:
        key = json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        return _by_shape(flows, value, version)
    memo = flows.__dict__.setdefault("_shape_memo", {})
    if (key, version) not in memo:
        if len(memo) > 10_000:
            memo.clear()
        memo[(key, version)] = _by_shape(flows, value, version)
    return memo[(key, version)]


def _by_shape(flows: FlowRegistry, value: Any, version: tuple[int, ...]) -> Flow | None:
    """The flow whose schema fits best, among the flows that know most of the example's keys and
    whose required top-level properties it has (a defective value deeper down still lands in its
    flow; a response or an unrelated object sharing a key or two does not)."""
    if not isinstance(value, dict) or not value:
        return None
    best: tuple[int, int, Flow] | None = None
    for flow in flows.flows.values():
        known = sum(1 for k in value if k in flow.known_keys)
        if known * 2 < len(value) or not known:
            continue
        errors = list(flows.validator(flow, version).iter_errors(value))
        if any(e.validator == "required" and not e.absolute_path for e in errors):
            continue
        score = (len(errors), -known)
        if best is None or score < best[:2]:
            best = (*score, flow)
    return best[2] if best else None


def flow_of_where(flows: FlowRegistry, where: Where, request: Request | None) -> tuple[Flow | None, str]:
    """Attribution from everything but the payload: (flow, how)."""
    if where.explicit:
        return flows.get(where.flow), "directive"
    flow = by_request(flows, request)
    if flow:
        return flow, "request"
    flow = by_text(flows, where.texts)
    if flow:
        return flow, "heading"
    if where.flow:
        return flows.get(where.flow), "front matter"
    return None, ""


def flow_of_example(flows: FlowRegistry, example: Example, version: tuple[int, ...]) -> Flow | None:
    if example.flow_hint and not example.where.explicit and flows.get(example.flow_hint):
        return flows.get(example.flow_hint)  # what the object is passed to
    flow, how = flow_of_where(flows, example.where, example.request)
    if how in ("heading", "front matter") and not _shares_a_key(flow, example.params):
        flow, how = None, ""  # the prose names a flow, but this JSON is something else (a server config...)
    if how or example.response:  # a response's shape says nothing of the request's flow
        return flow
    return by_shape(flows, example.params, version)


def _shares_a_key(flow: Flow | None, value: Any) -> bool:
    """Does the example look like the flow's payload at all (an object with one of its keys)?"""
    if flow is None or not flow.known_keys:
        return True
    if not isinstance(value, dict):
        return False
    return not value or any(key in flow.known_keys for key in value)


def flow_of_token_payload(flows: FlowRegistry, text: str, version: tuple[int, ...]) -> Flow | None:
    """A token with no example and no context: the flow its own payload fits (unwrapped), if any."""
    from .tokens import Malformed, decode

    try:
        payload = decode(text).payload
    except Malformed:
        return None
    if list(payload) == ["payload"] and isinstance(payload["payload"], dict):
        payload = payload["payload"]
    return by_shape(flows, payload, version)
