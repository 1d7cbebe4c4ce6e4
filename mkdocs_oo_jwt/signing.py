"""What a sample token should sign, and the freshly signed token that replaces a stale one.

The expected payload follows the transport: a header token wraps the example as
``{"payload": ...}``; a body, property or browser token signs the parameters themselves; a bare
sample token keeps the form its old token had (or, for a placeholder, the flow's first transport).
"""

from __future__ import annotations

from typing import Any

from .flows import Flow
from .model import Fix
from .samples import Example, Token
from .tokens import TIME_CLAIMS, sign


# the claims RFC 7519 registers (section 4.1): a token's own, never a request's parameters
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def has_wrapper(payload: dict) -> bool:
    """Is this payload ``{"payload": {...}}``, a header token's, with at most registered claims
    beside it (an ``iss`` there is an extra claim of a wrapped token, not a body's parameter)?"""
    keys = [k for k in payload if k not in REGISTERED_CLAIMS]
    return keys == ["payload"] and isinstance(payload.get("payload"), dict)


def prefix_of(expected: Any, example: Example) -> str:
    """Where the example's params sit inside the expected payload ("/payload" when wrapped)."""
    return "/payload" if isinstance(expected, dict) and expected.get("payload") is example.params and list(expected) == ["payload"] else ""


def expected_payload(token: Token, actual: dict | None, example: Example, flow: Flow) -> tuple[Any, str | None]:
    """(the payload the token must sign, a token-wrapper problem or None)."""
    params = example.params
    example_has_payload = isinstance(params, dict) and "payload" in params
    wrapped = {"payload": params}
    if token.place == "header":
        if actual is None or has_wrapper(actual):
            return wrapped, None
        return params, "header token payload must wrap the request body as {\"payload\": ...}"
    if actual is None:
        # a token that cannot be read (malformed, a placeholder) is signed as the page shows it: a
        # bare sample token signs its example itself, unless the flow takes a token in a header
        # only (a download's), where the payload wraps it
        header_only = token.place == "bare" and flow.transports == ("header",)
        return (wrapped if header_only else params), None
    if has_wrapper(actual) and not example_has_payload:
        if token.place == "body" or "header" not in flow.transports:
            return wrapped, "body token payload must be the parameters themselves, not {\"payload\": ...}"
        return wrapped, None
    return params, None


def regenerate(token: Token, actual: dict | None, example: Example, flow: Flow, secret: str, keep_claims: bool) -> Fix | None:
    """The fix that puts a token signed over its example in place of this one, if it differs."""
    expected, problem = expected_payload(token, actual, example, flow)
    if problem is not None:  # sign in the transport's form, not the old token's
        expected = {"payload": example.params} if token.place == "header" else example.params
    if keep_claims and actual and isinstance(expected, dict):
        expected = {**expected, **{k: actual[k] for k in TIME_CLAIMS if k in actual}}
    new = sign(expected, secret)
    return None if new == token.text else Fix(token.span, new)
