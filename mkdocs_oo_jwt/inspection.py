"""``oo-jwt inspect``: one token, and why it is (or is not) right for its flow.

For an integrator whose token is refused: the token is decoded (never failing: a broken one is
described part by part), its flow found from its payload as the engine attributes a token (or
taken from ``--flow``, or from the ``--against`` file), its signature verified when the flow's
role has a secret in the environment (the one resolver, ``settings.secrets_from_env``; never
printed), its payload compared with the config or body it is meant to sign (the engine's
transport rules and JSON-pointer differences), and the classic mistakes named (``diagnosis``).
Everything is the engine's: this module only puts one token through it and says what it found.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import diagnosis
from .attribution import Attribution, attribute_group, closest
from .diagnosis import Diagnosis
from .flows import Flow, FlowRegistry, parse_version
from .model import Span, Unknown
from .samples import Example, Token, Where
from .settings import Secret, Settings
from .signing import expected_payload, has_wrapper, prefix_of
from .tokens import Decoded, Difference, Malformed, decode, differences, verifies

TRANSPORTS = ("header", "body", "browser")
_PLACE = {"header": "header", "body": "body", "browser": "property"}  # a transport -> the engine's token place
_WHERE = Where(0, 0, (), (0, 1))  # a sample on no page: no text above it speaks for a flow
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx")
VERSION = 1  # of the --format json document


class UsageError(Exception):
    """An input the command cannot use (an unreadable file, an unknown flow): one line, exit 2."""


# ------------------------------------------------------------------ the --against file


@dataclass(frozen=True)
class Against:
    name: str  # as given ("-": stdin)
    example: Example
    read_as: str  # "json" or "js"

    @property
    def transport(self) -> str | None:
        """The transport the file's form shows: a JS config is the browser's, a displayed
        ``{"payload": ...}`` is a header token's (for a flow that has that transport: a JS file
        may be a server's code that builds a request body)."""
        if self.read_as == "js":
            return "browser"
        return "header" if self.example.wrapped else None


def read_against(name: str, text: str, settings: Settings) -> Against:
    """The config or body a token is meant to sign, read by the extractors a page's examples are
    read with: JSON (with comments and ``...`` elisions, a ``token`` member left out, a displayed
    ``{"payload": ...}`` unwrapped) or a JS/TS object literal (expressions, spreads, the call it
    is passed to). UsageError when neither is there, or when the JSON is no object (a string, an
    object's text encoded twice among them, a number, an array, null): no parameters to compare."""
    text = text.removeprefix("\ufeff")
    suffix = os.path.splitext(name)[1].lower()
    fault = None
    if suffix not in JS_SUFFIXES:
        example, fault = _json_example(text, settings)
        if example is not None and not isinstance(example.value, dict):
            raise UsageError(f"{name}: {diagnosis.not_an_object(example.value)}")
        if example is not None:
            return Against(name, example, "json")
        if fault is None:
            scalar = _json_scalar(text)
            if scalar is not _NO_VALUE:
                raise UsageError(f"{name}: {diagnosis.not_an_object(scalar)}")
        if suffix == ".json":
            raise UsageError(f"{name}: {fault or 'no JSON value to compare with'}")
    from .extract.js import read_object

    read = read_object(text, suffix.lstrip(".") if suffix in JS_SUFFIXES else "js")
    if read is None:
        json_says = f"not JSON ({fault})" if fault else "no JSON value"
        raise UsageError(f"{name}: {json_says}, nor a JS object literal that parses without error")
    value, opened, unknown, hint, token = read
    example = Example(Span(0, 0), value, {}, _WHERE, "js", token_holder=token is not None, open=opened,
                      unknown=unknown, flow_hint=hint)
    return Against(name, example, "js")


def _json_example(text: str, settings: Settings) -> tuple[Example | None, str | None]:
    """(the outermost example of ``text`` read as a jsonc block, or None; what stops JSON there)."""
    from .extract import extract
    from .page import Page

    fence = "`" * max(3, _longest_backticks(text) + 1)  # a fence the text cannot close
    page = Page("against", f"{fence}jsonc\n{text}\n{fence}\n")
    found = extract(page, settings.max_json_depth, settings.max_samples_per_page)
    if found.examples:
        return min(found.examples, key=lambda e: (e.span.start, -e.span.end)), None
    if found.faults:
        fault = found.faults[0]
        where = page.location(fault.span)
        return None, f"line {where.line - 1}, column {where.column}: {fault.message}"
    if found.tokens:
        return None, "holds only a token: no parameters to compare with"
    return None, None


_NO_VALUE = object()


def _json_scalar(text: str) -> Any:
    """The JSON string, number, boolean or null that is all of ``text`` (comments aside), which a
    page's block never reads as an example; ``_NO_VALUE`` when the text is none of them."""
    from .extract.jsonc import mask_comments

    source = mask_comments(text)[0].strip()
    if not source or source[0] in "{[":
        return _NO_VALUE  # an object or array is the extractors' to read (or to say what stops it)

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(source, parse_constant=refuse)
    except ValueError:
        return _NO_VALUE


def _longest_backticks(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


# ------------------------------------------------------------------ what inspect finds


@dataclass
class Inspection:
    length: int | None  # characters of the token as read (None for a secret: not even its length is said)
    segments: int
    pieces: int | None = 1  # the pieces of a token given broken over lines, read as one (None for a secret)
    header: Any = None
    payload: Any = None
    decoded: bool = False  # header and payload as PyJWT reads them
    malformed: list[str] = field(default_factory=list)
    opaque: bool = False  # the flow's token is not a JWT (Workspace): nothing to decode
    flow: str | None = None
    flow_how: str = ""
    transport: str | None = None
    transport_how: str = ""
    signature: str = "unchecked"  # verified, invalid, unchecked, unsigned, wrong-alg
    signature_note: str = ""
    against: str | None = None
    differences: list[Difference] = field(default_factory=list)
    schema: list[tuple[str, str]] = field(default_factory=list)  # (pointer, message) of the flow's base schema
    other: list[str] = field(default_factory=list)  # what else makes it wrong (no flow, a transport the flow has not)
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every reason the token is not right for its flow, one line each."""
        out = [f"malformed: {m}" for m in self.malformed]
        out += self.other
        if self.signature in ("invalid", "wrong-alg"):
            out.append(f"signature: {self.signature_note}")
        out += [f"{d.pointer or '/'}: {_difference(d)}" for d in self.differences]
        out += [f"schema: {p or '/'}: {m}" for p, m in self.schema]
        out += [f"{d.id}: {d.detail}" for d in self.diagnoses]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "version": VERSION,
            "ok": self.ok,
            "token": {"length": self.length, "segments": self.segments, "pieces": self.pieces,
                      "decoded": self.decoded, "malformed": self.malformed, "opaque": self.opaque},
            "header": self.header,
            "payload": self.payload,
            "flow": {"id": self.flow, "how": self.flow_how},
            "transport": {"name": self.transport, "how": self.transport_how},
            "signature": {"status": self.signature, "message": self.signature_note},
            "against": None if self.against is None else {
                "path": self.against,
                "differences": [{"pointer": d.pointer, "kind": d.kind, "expected": _plain(d.expected),
                                 "actual": _plain(d.actual)} for d in self.differences],
            },
            "schema": [{"pointer": p, "message": m} for p, m in self.schema],
            "problems": self.problems,  # every reason it is wrong, one line each (diagnoses among them)
            "diagnoses": [d.as_dict() for d in self.diagnoses],
        }


def inspect(
    value: str,
    settings: Settings,
    flows: FlowRegistry,
    secrets: Mapping[str, Secret],
    flow_id: str | None = None,
    against: Against | None = None,
    transport: str | None = None,
) -> Inspection:
    """What is right and wrong with the token ``value`` (as given: whitespace around it, an
    ``Authorization:`` name and a ``Bearer`` scheme are taken off; the scheme says it is a header
    token). UsageError for a ``flow_id`` no flow has."""
    flow = None
    if flow_id is not None:
        flow = flows.get(flow_id)
        if flow is None:
            raise UsageError(f"--flow {flow_id}: no such flow (the flows: {', '.join(sorted(flows.flows))})")
    text, bearer, pieces = _token_text(value)
    out = Inspection(len(text), text.count(".") + 1, pieces=pieces)
    transport_how = "--transport" if transport else ""
    if transport is None and bearer:
        transport, transport_how = "header", "it was given with the Bearer scheme"
    if len(text) > settings.max_token_bytes:
        out.malformed.append(f"{len(text)} characters, over max_token_bytes ({settings.max_token_bytes}): not decoded")
        return out

    if flow is not None and flow.opaque:
        out.flow, out.flow_how, out.opaque = flow.id, "--flow", True
        out.transport, out.transport_how = transport or flow.transports[0], transport_how or "the flow's"
        out.signature, out.signature_note = "unchecked", f"{flow.id} tokens are opaque: not JWTs, nothing to verify"
        return out

    decoded: Decoded | None
    try:
        decoded = decode(text)
    except Malformed as exc:
        decoded, refusal = None, str(exc).removeprefix("not a JWT: ")
    segments = diagnosis.read_segments(text)
    if decoded is not None:
        out.decoded, out.header, out.payload = True, decoded.header, decoded.payload
        out.malformed += [p for p in segments.problems if p.startswith("the signature")]
    else:
        out.header = segments.header if segments.has_header else None
        out.payload = segments.payload if segments.has_payload else None
        out.malformed += list(segments.problems) or [refusal]
        secret_like = diagnosis.looks_like_secret(text, secrets)
        if secret_like is None and pieces > 1:  # a secret with spaces in it, not a token in pieces
            secret_like = diagnosis.looks_like_secret(value, secrets)
        if secret_like is not None:
            out.diagnoses.append(secret_like)
            out.header = out.payload = out.length = out.pieces = None  # nothing of a secret is shown
            out.flow, out.flow_how = (flow.id, "--flow") if flow is not None else (None, "")
            out.signature_note = "not checked: not a token"
            return out

    double = diagnosis.double_encoded(out.payload)
    meant = diagnosis.inner_payload(out.payload)  # what was meant to be signed
    if double is not None:
        out.diagnoses.append(double)
    params = meant.get("payload") if isinstance(meant, dict) and has_wrapper(meant) else meant

    # the flow: --flow, else the --against file's, else the payload's own
    found = _attribution(flows, text, decoded, meant, transport)
    how = "--flow" if flow is not None else ""
    if flow is None and against is not None:
        by_file = attribute_group(flows, against.example, ())
        if by_file.flow is not None:
            flow, how = by_file.flow, f"from --against {against.name}: {_decided(by_file)}"
    if flow is not None and found is not None:
        other = diagnosis.other_flow(flow, found)
        if other is not None:
            out.diagnoses.append(other)
    elif found is not None and found.flow is not None:
        flow, how = found.flow, f"from its payload: {_decided(found)}"
    out.flow, out.flow_how = (flow.id if flow else None), how
    if flow is None and isinstance(meant, dict):
        out.other.append("no flow: " + (closest(found) if found is not None else "nothing to attribute")
                         + "; name it with --flow ID")

    # the transport: given, else the --against file's form, else the flow's only one
    if transport is None and against is not None and against.transport is not None \
            and (flow is None or against.transport in flow.transports):  # a Node.js body is no browser config
        transport, transport_how = against.transport, f"the form of {against.name}"
    if transport is None and against is not None and against.example.token_holder and flow is not None \
            and against.read_as == "json" and "body" in flow.transports:
        transport, transport_how = "body", f"{against.name} holds the token in its \"token\" member"
    if transport is None and flow is not None and len(flow.transports) == 1:
        transport, transport_how = flow.transports[0], f"the only transport of {flow.id}"
    out.transport, out.transport_how = transport, transport_how
    if transport is None and flow is not None:
        form = "header" if isinstance(meant, dict) and has_wrapper(meant) else "body"
        out.transport_how = f"{' or '.join(flow.transports)} (its payload has a {form} token's form)"
    if transport is not None and flow is not None and transport not in flow.transports:
        out.other.append(f"{flow.id} tokens are sent in the {' or '.join(flow.transports)}, not the {transport}")

    if decoded is not None:
        for found_mistake in (diagnosis.alg_none(decoded.header), diagnosis.weak_secret(decoded)):
            if found_mistake is not None:
                out.diagnoses.append(found_mistake)
        _signature(out, text, decoded, flow, secrets, settings)
    else:
        out.signature_note = "not checked: the token does not decode"
    for found_mistake in (
        diagnosis.expired(meant, settings.clock()),
        diagnosis.wrapper(out.payload, transport, flow),
        diagnosis.missing_since(flows, flow, params, parse_version(settings.version)) if flow is not None else None,
    ):
        if found_mistake is not None:
            out.diagnoses.append(found_mistake)
    if flow is not None and isinstance(params, dict):
        out.schema = _schema_errors(flows, flow, params)
    if against is not None:
        out.against = against.name
        if isinstance(meant, dict):
            out.differences = _differences(text, meant, against, flow, transport)
    return out


_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def _token_text(value: str) -> tuple[str, bool, int]:
    """(the token without what surrounds it when copied from a request: whitespace, the header's
    name, the Bearer scheme; whether that scheme said it is a header token; the pieces it was
    given in). A token broken over lines (a copy from a narrow terminal, a folded header) is read
    as one, as ``check`` reads one on a page: pieces of base64url and dots that make three
    segments together. Other whitespace is kept: it is what is malformed. A file's byte order
    mark (a token saved by Notepad, then piped in) is no part of it."""
    text = value.strip().removeprefix("\ufeff").strip()
    if text[:14].lower() == "authorization:":
        text = text[14:].strip()
    bearer = False
    words = text.split(None, 1)
    if len(words) == 2 and words[0].lower() == "bearer":
        text, bearer = words[1].strip(), True
    pieces = text.split()
    if len(pieces) > 1 and all(_TOKEN_CHARACTERS.issuperset(piece) for piece in pieces):
        joined = "".join(pieces)
        if joined.count(".") == 2:
            return joined, bearer, len(pieces)
    return text, bearer, 1


def _attribution(flows: FlowRegistry, text: str, decoded: Decoded | None, meant: Any, transport: str | None) -> Attribution | None:
    """The flow the token's payload says, as the engine attributes a token alone on a page (its
    transport counts: the place it was given in, or, not given, the header form of a wrapped
    payload); for a payload encoded twice, the object it holds."""
    if decoded is not None and isinstance(decoded.payload, dict) and diagnosis.double_encoded(decoded.payload) is None:
        if transport is None and has_wrapper(decoded.payload):
            transport = "header"
        place = _PLACE.get(transport or "", "bare")
        owner = Example(Span(0, 0), {}, {}, _WHERE, "js") if place == "property" else None
        return attribute_group(flows, None, (Token(Span(0, len(text)), text, place, _WHERE, owner=owner),))
    if isinstance(meant, dict):
        example = Example(Span(0, 0), meant, {}, _WHERE, "json", wrapped=has_wrapper(meant))
        return attribute_group(flows, example, ())
    return None


def _decided(attribution: Attribution) -> str:
    if attribution.decided_by and attribution.decided_by != "evidence":
        return f"certain: {attribution.decided_by}"
    score = attribution.scores[0][1] if attribution.scores else 0.0
    runner = attribution.runner_up
    return f"evidence {score:.1f}" + (f"; runner-up {runner[0]} {runner[1]:.1f}" if runner else "")


def _signature(out: Inspection, text: str, decoded: Decoded, flow: Flow | None, secrets: Mapping[str, Secret],
               settings: Settings) -> None:
    alg = decoded.header.get("alg")
    if str(alg).lower() == "none":
        out.signature, out.signature_note = "unsigned", "none: the header says alg none, so nothing signs it"
        return
    if flow is None:
        out.signature_note = "not checked: no flow, so no role's secret to verify with"
        return
    if alg != flow.alg:
        out.signature, out.signature_note = "wrong-alg", f"alg {alg!r} is not {flow.id}'s {flow.alg}"
        return
    secret = secrets.get(flow.role or "")
    if secret is None:
        names = " or ".join(settings.secret_env.get(flow.role or "", ())) or "a variable"
        out.signature_note = f"not checked: no {flow.role} secret in the environment (set {names})"
    elif verifies(text, secret.reveal(), flow.alg):
        out.signature, out.signature_note = "verified", f"verifies with the {flow.role} secret (from {secret.source})"
    else:
        out.signature, out.signature_note = "invalid", f"does not verify with the {flow.role} secret (from {secret.source})"


def _schema_errors(flows: FlowRegistry, flow: Flow, params: dict) -> list[tuple[str, str]]:
    """The payload against its flow's base schema (the version rules are ``missing-7.1-params``)."""
    from jsonschema.exceptions import best_match

    from .extract.jsondoc import pointer_token

    by_pointer: dict[str, list] = {}
    for error in flows.validator(flow, (0,)).iter_errors(params):
        pointer = "".join(f"/{pointer_token(str(p))}" for p in error.absolute_path)
        by_pointer.setdefault(pointer, []).append(error)
    return [(p, best_match(errors).message) for p, errors in sorted(by_pointer.items())]


def _differences(text: str, actual: dict, against: Against, flow: Flow | None, transport: str | None) -> list[Difference]:
    """The token's payload against the file, as ``token-payload-mismatch`` compares a token with its
    example: the transport's form (a header token wraps the body, a body token is the parameters,
    a browser token the config without ``token``), elisions open, expressions any value."""
    example = against.example
    place = _PLACE.get(transport or "", "bare")
    token = Token(Span(0, len(text)), text, place, _WHERE, owner=example if place == "property" else None)
    if flow is not None:
        expected, _problem = expected_payload(token, actual, example, flow)  # the wrapper is a diagnosis
    else:
        expected = {"payload": example.params} if has_wrapper(actual) else example.params
    prefix = prefix_of(expected, example)
    return differences(expected, actual, frozenset(prefix + p for p in example.open))


def _difference(d: Difference) -> str:
    if d.kind == "missing":
        return f"the --against file has {_show(d.expected)}, the token lacks it"
    if d.kind == "extra":
        return f"the token has {_show(d.actual)}, the --against file lacks it"
    return f"the --against file has {_show(d.expected)}, the token has {_show(d.actual)}"


def _show(value: Any) -> str:
    if isinstance(value, Unknown):
        return "an expression"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    """A value for JSON output (an expression of a JS file as the string "<expression>")."""
    if isinstance(value, Unknown):
        return "<expression>"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------ output


def render_json(result: Inspection) -> str:
    from .report.common import portable

    return json.dumps(portable(result.as_dict()), indent=2, ensure_ascii=True, default=repr) + "\n"


def render_text(result: Inspection) -> str:
    """For a person: what the token holds, its flow and transport, its signature, its differences,
    its mistakes by name with their hints, and a last line that says right or wrong. Strings from
    the token are shown with visible escapes (a token cannot rewrite the terminal)."""
    from .report.common import visible

    lines: list[str] = []
    what = "a JWT" if result.decoded else "not a well-formed JWT"
    if result.pieces is not None and result.pieces > 1:  # said, not a problem: check reads such a token as one too
        what += (f", read as one token from {result.pieces} pieces (the whitespace between them taken out: "
                 "a token sent with it is refused)")
    lines.append(f"token: {result.segments} segment(s): {what}")
    for problem in result.malformed:
        lines.append(f"  malformed: {visible(problem)}")
    for name, value in (("header", result.header), ("payload", result.payload)):
        if value is not None:
            lines.append(f"{name}:")
            shown = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
            lines += ["  " + visible(line) for line in shown.splitlines()]
    if result.opaque:
        lines.append(f"flow: {result.flow} (--flow): its tokens are opaque, not JWTs: nothing to decode or verify")
    else:
        lines.append(f"flow: {result.flow} ({visible(result.flow_how)})" if result.flow else "flow: none")
        if result.transport:
            lines.append(f"transport: {result.transport} ({visible(result.transport_how)})")
        elif result.transport_how:
            lines.append(f"transport: {visible(result.transport_how)}")
        lines.append(f"signature: {result.signature_note or result.signature}")
    if result.against is not None:
        count = len(result.differences)
        if not count:
            lines.append(f"against {visible(result.against)}: the token signs exactly what it holds")
        else:
            lines.append(f"against {visible(result.against)}: {count} difference{'s' if count != 1 else ''}")
            lines += [f"  {visible(d.pointer or '/')}: {visible(_difference(d))}" for d in result.differences]
    if result.schema:
        lines.append(f"schema of {result.flow}:")
        lines += [f"  {visible(p or '/')}: {visible(m)}" for p, m in result.schema]
    for problem in result.other:
        lines.append(f"problem: {visible(problem)}")
    if result.diagnoses:
        lines.append("diagnoses:")
        for d in result.diagnoses:
            lines.append(f"  {d.id}: {d.hint}")
            lines.append(f"    ({visible(d.detail)})")
    count = len(result.problems)
    if result.ok:
        lines.append(f"result: right for {result.flow}" if result.flow else "result: right")
    else:
        target = f" for {result.flow}" if result.flow else ""
        lines.append(f"result: wrong{target}: {count} problem{'s' if count != 1 else ''}")
    return "\n".join(lines) + "\n"
