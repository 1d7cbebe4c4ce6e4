"""The token rules: form, algorithm, signature, weak secret, time claims, wrapper, payload.

A token of no known flow is checked for form only, and its findings are at most info-level notes
(docs often show a generic "what a JWT looks like" token); one found by its place (an
Authorization header, a "token" key) that does not even look like a JWT is another API's
credential, and not a sample. Tokens of an opaque flow (Workspace
authentication) are not JWTs and are not checked.
"""

from __future__ import annotations

import json

from .. import diagnosis, remembered
from ..attribution import closest
from ..model import Severity, Unknown
from ..samples import Example, Token
from ..signing import expected_payload, prefix_of
from ..tokens import Decoded, Malformed, decode, differences, verifies, weak_secret
from .base import PageCheck


def check(ctx: PageCheck):
    for token in ctx.extraction.tokens:
        flow = ctx.flow_of(token)
        if flow is not None and flow.opaque:
            continue
        if token.placeholder:
            continue  # filled at build time (mode: regenerate) or by `oo-jwt fix`
        if flow is None and token.by_place and not token.text.startswith("eyJ"):
            continue  # another API's credential (an API key in an Authorization header): not a sample JWT
        cap = Severity.INFO if flow is None else None
        if len(token.text) > ctx.settings.max_token_bytes:
            yield ctx.finding(
                "token-malformed", token.span,
                f"token of {len(token.text)} characters is over the limit of {ctx.settings.max_token_bytes} (max_token_bytes): not decoded",
                flow, severity=cap,
            )
            continue
        place = _PLACES.get(token.place, "sample token")
        try:
            decoded = decode(token.text)
        except Malformed as exc:
            # a secret pasted as the token, a payload encoded twice: the hint says so (never the
            # configured secrets: a message must not tell whether a page holds one)
            reason = str(exc)
            if exc.by_library:  # PyJWT's words name no part: which part, and what is wrong with it
                problems = diagnosis.read_segments(token.text).problems
                reason = f"not a JWT: {problems[0]}" if problems else reason
            message = diagnosis.with_hint(f"{place}: {reason}", diagnosis.of_malformed(token.text))
            yield ctx.finding("token-malformed", token.span, message, flow, severity=cap)
            continue
        alg = decoded.header.get("alg")
        # the form, checked whether a flow is known or not (a token decodes with any signature: without
        # this one cut short would pass with no flow, or with no secret to verify it); alg none is token-alg's
        problem = diagnosis.signature_problem(alg, decoded.signature) if isinstance(alg, str) and alg.lower() != "none" else None
        if problem is not None:
            yield ctx.finding("token-malformed", token.span, f"{place}: not a well-formed JWT: {problem}", flow, severity=cap)
            continue
        expected_alg = flow.alg if flow else "HS256"
        alg_ok = alg == expected_alg
        if not alg_ok and (flow is not None or alg in (None, "none")):
            why = "'none': an unsigned token" if alg in (None, "none") else f"{alg!r}, not the flow's {expected_alg}"
            message = diagnosis.with_hint(f"token alg is {why}", diagnosis.alg_none(decoded.header))
            yield ctx.finding("token-alg", token.span, message, flow, severity=cap)
        weak = weak_secret(decoded)
        if weak is not None:
            label = "an empty key" if weak == "" else "a publicly known secret"
            yield ctx.finding(
                "token-weak-secret", token.span,
                f"token is signed with {label}: anyone can forge it; sign samples with the docs secret",
                flow, severity=cap,
            )
        if flow is None:
            yield ctx.finding(
                "flow-unknown", token.span,
                f"token belongs to no known flow ({closest(ctx.attribution(token))}): checked for form only "
                "(add <!-- oo-jwt: flow=... --> above it to check it)",
            )
            continue
        yield from _time_claims(ctx, token, decoded, flow)
        if alg_ok:
            secret = ctx.secrets.get(flow.role or "")
            if secret is None:
                ctx.unsigned_roles.add(flow.role or "")
            elif not remembered.recalled("signature", f"{flow.role}\0{flow.alg}\0{token.text}",
                                         lambda: verifies(token.text, secret.reveal(), flow.alg),
                                         lambda note: type(note) is bool):
                yield ctx.finding(
                    "token-signature", token.span,
                    f"token does not verify with the {flow.role} secret (from {secret.source})", flow,
                )
        example = ctx.pairs.get(id(token))
        if example is None:
            yield ctx.finding("token-unpaired", token.span, "token has no example to compare its payload with", flow)
            continue
        yield from _payload(ctx, token, decoded, example, flow)


_PLACES = {"header": "Authorization header", "body": "\"token\" property", "property": "\"token\" property"}


def _time_claims(ctx: PageCheck, token: Token, decoded: Decoded, flow):
    now = ctx.settings.clock()
    exp, nbf = decoded.payload.get("exp"), decoded.payload.get("nbf")
    if exp is not None or nbf is not None:
        ctx.time_dependent = True
    found = diagnosis.expired(decoded.payload, now)
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp < now:
        message = f"token expired (exp {int(exp)} is in the past)"
        yield ctx.finding("token-expired", token.span, diagnosis.with_hint(message, found), flow)
    if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf > now:
        message = f"token is not valid yet (nbf {int(nbf)} is in the future)"
        yield ctx.finding("token-expired", token.span, diagnosis.with_hint(message, found), flow)


def _payload(ctx: PageCheck, token: Token, decoded: Decoded, example: Example, flow):
    actual = decoded.payload
    if actual == {}:
        yield ctx.finding(
            "token-payload-mismatch", token.span,
            "token signs {}: a format placeholder, not a sample of its example", flow, "", Severity.INFO,
        )
        return
    expected, problem = expected_payload(token, actual, example, flow)
    if problem:
        problem = diagnosis.with_hint(problem, diagnosis.double_encoded(actual))  # {"payload": "<its text>"}
        yield ctx.finding("token-wrapper", token.span, problem, flow)
    prefix = prefix_of(expected, example)
    for diff in differences(expected, actual, frozenset(prefix + p for p in example.open)):
        if diff.kind == "missing" and isinstance(diff.expected, Unknown):
            what = "the example sets it (to an expression), the token lacks it"
        elif diff.kind == "missing":
            what = f"the example has {_show(diff.expected)}, the token lacks it"
        elif diff.kind == "extra":
            what = f"the token has {_show(diff.actual)}, the example lacks it"
        else:
            what = f"the example has {_show(diff.expected)}, the token has {_show(diff.actual)}"
        yield ctx.finding(
            "token-payload-mismatch", token.span, f"{diff.pointer or '/'}: {what}", flow, diff.pointer
        )


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."
