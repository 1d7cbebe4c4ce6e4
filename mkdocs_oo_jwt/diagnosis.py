"""The classic mistakes of a sample token, each a stable id with a one-line hint.

Integrators make the same few mistakes again and again (the DocumentServer issues, the
ownCloud/Nextcloud integrations, the forum): the server secret pasted where the token goes, a
payload encoded twice, a token of one flow sent to another, the 7.1 parameters left out, the
``{"payload": ...}`` wrapper on the wrong transport, ``alg: none``, an expired token, a token
signed with a published secret. Each function here looks at decoded data for one of them and
returns a ``Diagnosis`` (or None): ``oo-jwt inspect`` lists them, and the token rules append the
hint to a ``check`` finding the mistake explains. Nothing here prints, reads a file or names a
secret's value; rules and the inspection import this module, never the reverse.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from .page import INVISIBLE
from .signing import has_wrapper
from .tokens import TIME_CLAIMS, WEAK_SECRETS, Decoded, weak_secret as weak_secret_of

if TYPE_CHECKING:
    from .attribution import Attribution
    from .flows import Flow, FlowRegistry
    from .settings import Secret


@dataclass(frozen=True)
class Mistake:
    id: str
    hint: str  # one line: what to do about it
    what: str  # what the mistake is (the README's table)


MISTAKES: dict[str, Mistake] = {
    m.id: m
    for m in (
        Mistake("not-a-jwt-looks-like-secret",
                "this looks like a secret, not a token: sign the payload with the secret and send the token, "
                "never the secret itself",
                "the value is not a JWT (no header.payload.signature) but has the shape of a secret"),
        Mistake("payload-double-encoded", "payload is a JSON string: encode the object, not its text",
                "the payload (or its \"payload\" member) is a JSON string holding the object's text"),
        Mistake("token-of-other-flow",
                "the payload is another flow's: sign the parameters of the request the token is sent with",
                "the token signs another flow's parameters (an editor config sent to the command service)"),
        Mistake("missing-7.1-params",
                "from 7.1 every parameter of the documented list must be signed: add the missing ones to the payload",
                "an editor-config token lacks parameters that must be signed from 7.1 (document.permissions, "
                "editorConfig.user...)"),
        Mistake("header-token-without-wrapper",
                "a header token signs {\"payload\": <the request body>}: wrap the parameters in \"payload\"",
                "an Authorization header token whose payload is not wrapped in {\"payload\": ...}"),
        Mistake("body-token-with-wrapper",
                "a body or browser token signs the parameters themselves: drop the {\"payload\": ...} wrapper",
                "a token in the body or the browser config whose payload is wrapped in {\"payload\": ...}"),
        Mistake("alg-none", "Document Server refuses an unsigned token: sign it with HS256",
                "the header says \"alg\": \"none\": the token is not signed"),
        Mistake("expired", "Document Server refuses it: sign a fresh token (a sample needs no exp)",
                "exp is in the past, or nbf in the future"),
        Mistake("weak-secret", "anyone can forge it: sign with a secret of your own (the docs secret for samples)",
                "the token verifies with an empty or publicly known secret (\"\", secret, your-256-bit-secret...)"),
    )
}


@dataclass(frozen=True)
class Diagnosis:
    id: str  # a key of MISTAKES
    detail: str  # what was seen in this token (never a secret's value)

    @property
    def hint(self) -> str:
        return MISTAKES[self.id].hint

    def as_dict(self) -> dict:
        return {"id": self.id, "hint": self.hint, "detail": self.detail}


def with_hint(message: str, found: Diagnosis | None) -> str:
    """A check message with the hint of the mistake that explains it appended ("...; hint")."""
    return message if found is None else f"{message}; {found.hint}"


# ------------------------------------------------------------------ reading a token that is broken

PARTS = ("header", "payload", "signature")
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_SIGNATURE_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_ABSENT = object()


@dataclass(frozen=True)
class Segments:
    """A token read part by part, as far as each part goes: what PyJWT would only refuse."""

    count: int  # dot-separated segments
    header: Any = _ABSENT  # the decoded JSON value of each part that decodes (else _ABSENT)
    payload: Any = _ABSENT
    problems: tuple[str, ...] = ()  # exactly what is malformed, part by part

    @property
    def has_header(self) -> bool:
        return self.header is not _ABSENT

    @property
    def has_payload(self) -> bool:
        return self.payload is not _ABSENT


def read_segments(text: str) -> Segments:
    """What is malformed in ``text`` as a JWT: the number of segments, then for each part whether it
    is base64url (PyJWT's decoder), UTF-8, JSON, an object; a header without "alg"; a signature of
    the wrong length for its algorithm. Never raises. The problems name parts and positions, never
    the characters of the value (which may be a secret)."""
    from jwt.utils import base64url_decode

    parts = text.split(".")
    count = len(parts)
    if count not in (2, 3):
        return Segments(count, problems=(f"{count} dot-separated segment(s), expected 3 (header.payload.signature)",))
    problems: list[str] = []
    decoded: dict[str, Any] = {"signature": _ABSENT}
    if count == 2:  # cut at the last dot: what is left may still say what it was
        problems.append("2 dot-separated segment(s), expected 3 (header.payload.signature): the signature is missing")
    for name, part in zip(PARTS, parts):
        if not part:
            if name != "signature":
                problems.append(f"the {name} is empty")
            decoded[name] = b"" if name == "signature" else _ABSENT
            continue
        bad = next((i for i, ch in enumerate(part) if ch not in _BASE64URL), None)
        if bad is not None:
            problems.append(f"the {name} holds {_character_class(part[bad])} at its character {bad + 1}: "
                            "not base64url (A-Z, a-z, 0-9, - and _ only)")
            decoded[name] = _ABSENT
            continue
        try:
            raw = base64url_decode(part.encode("ascii"))
        except (ValueError, TypeError):  # binascii.Error is a ValueError
            problems.append(f"the {name} is not valid base64url ({len(part)} characters leave one over)")
            decoded[name] = _ABSENT
            continue
        if name == "signature":
            decoded[name] = raw
            continue
        try:
            decoded[name] = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"the {name} decodes to bytes that are not UTF-8 text, not JSON")
            decoded[name] = _ABSENT
        except (ValueError, RecursionError) as exc:
            where = f" at character {exc.pos + 1} of its text" if isinstance(exc, json.JSONDecodeError) else ""
            problems.append(f"the {name} is not JSON ({getattr(exc, 'msg', 'too deeply nested')}{where})")
            decoded[name] = _ABSENT
    header, payload = decoded["header"], decoded["payload"]
    alg = None
    if header is not _ABSENT:
        if not isinstance(header, dict):
            problems.append(f"the header is a JSON {_json_type(header)}, not an object")
        elif "alg" not in header:
            problems.append("the header has no \"alg\"")
        else:
            alg = header["alg"]
    if payload is not _ABSENT and not isinstance(payload, dict):
        problems.append(f"the payload is a JSON {_json_type(payload)}, not an object")
    signature = decoded["signature"]
    if isinstance(signature, bytes) and isinstance(alg, str):
        problem = signature_problem(alg, signature)
        if problem is not None:
            problems.append(problem)
    return Segments(count, header, payload, tuple(problems))


def signature_problem(alg: str, signature: bytes) -> str | None:
    """What is wrong with a signature's form for its algorithm: empty, not as long as the
    algorithm's (cut short, or two joined), or there at all under alg none; None when nothing is."""
    want = _SIGNATURE_BYTES.get(alg)
    if alg.lower() != "none" and not signature:
        return f"the signature is empty: alg {alg} needs one"
    if want is not None and len(signature) != want:
        return f"the signature is {len(signature)} bytes, {alg}'s is {want} (cut short or joined?)"
    if alg.lower() == "none" and signature:
        return "the signature is there, yet the header says alg none"
    return None


def _character_class(ch: str) -> str:
    if ch in "+/":
        return "'+' or '/' (standard base64, not base64url)"
    if ch == "=":
        return "'=' padding (a JWT's base64url has none)"
    if ch in INVISIBLE or (ch.isspace() and ch not in " \t\r\n"):
        return f"an invisible U+{ord(ch):04X} (a copy from a word processor or a chat?)"
    if ch.isspace():
        return "whitespace (a token broken over lines?)"
    return "a character"



def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "value"


# ------------------------------------------------------------------ the mistakes


def looks_like_secret(value: str, secrets: Mapping[str, "Secret"] | None = None) -> Diagnosis | None:
    """The value is not a JWT but has the shape of a secret: one word, no dots, not the "eyJ" a
    JWT starts with; or it is a configured secret (compared in constant time; the detail names
    the variable, never the value) or a publicly known one."""
    value = value.strip()
    if not value or value.count(".") == 2 and value.startswith("eyJ"):
        return None
    sources: dict[str, list[str]] = {}  # variable -> the roles whose secret it is and the value is
    for role, secret in (secrets or {}).items():
        if hmac.compare_digest(value.encode("utf-8", "surrogatepass"), secret.reveal().encode("utf-8", "surrogatepass")):
            sources.setdefault(secret.source, []).append(role)
    if sources:
        named = "; ".join(f"{source}, the {_listed(roles)} secret" for source, roles in sources.items())
        return Diagnosis("not-a-jwt-looks-like-secret", f"it is the secret itself: the value of {named}")
    published = [w for w in WEAK_SECRETS if len(w) >= 6 and w != "example"]  # not "key", "test": placeholders too
    if any(hmac.compare_digest(value.encode("utf-8", "surrogatepass"), weak.encode()) for weak in published):
        return Diagnosis("not-a-jwt-looks-like-secret", "it is a publicly known secret, not a token")
    # a value that says it is a secret is one (the docs' own "oo-jwt-demo-docs-secret-2026", a
    # "YOUR_JWT_SECRET" pasted where the token goes), whatever else it holds ("jwt", "your")
    says_secret = "secret" in value.lower()
    if value.startswith("eyJ") or "." in value or not 6 <= len(value) <= 512 or (
            _PLACEHOLDER.search(value) and not says_secret):
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return None
    mixed = any(ch.isalpha() for ch in value) and any(ch.isdigit() or not ch.isalnum() for ch in value)
    if not mixed and len(value) < 16 and not says_secret:
        return None  # a plain word ("insertImage", "Smith"): no secret of anyone's
    return Diagnosis("not-a-jwt-looks-like-secret", "one word with no dots: the shape of a secret, not of a JWT")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# what a writer puts where a token will go: "<token>", "YOUR_JWT", "{{token}}", "$TOKEN", "xxx", "..."
_PLACEHOLDER = re.compile(r"(?i)token|jwt|your|xxx|placeholder|<|>|[{}$]|\.\.\.|…")


def double_encoded(payload: Any) -> Diagnosis | None:
    """The payload, or a header token's ``payload`` member, is a JSON string whose text is a JSON
    object or array: ``JSON.stringify`` applied before signing (or twice)."""
    if isinstance(payload, str) and _json_text(payload):
        return Diagnosis("payload-double-encoded", "the payload is a JSON string holding the text of an object")
    if isinstance(payload, dict) and isinstance(payload.get("payload"), str) and _json_text(payload["payload"]):
        return Diagnosis("payload-double-encoded", "\"payload\" is a JSON string holding the text of an object")
    return None


def inner_payload(payload: Any) -> Any:
    """The object a double-encoded payload holds (what was meant to be signed), else ``payload``."""
    if isinstance(payload, str) and _json_text(payload):
        return json.loads(payload)
    if isinstance(payload, dict) and isinstance(payload.get("payload"), str) and _json_text(payload["payload"]):
        return {**payload, "payload": json.loads(payload["payload"])}
    return payload


def not_an_object(value: Any) -> str:
    """What a JSON value that should be an object (the parameters a token signs: ``inspect
    --against``'s file) is instead, in the words the segments' problems use; a JSON string
    holding an object's text is said to be encoded twice, with what to give instead."""
    if isinstance(value, str) and isinstance(inner_payload(value), dict):
        return "a JSON string holding the text of an object (encoded twice): give the object itself, not its text"
    return f"a JSON {_json_type(value)}, not an object: no parameters to compare the token with"


def _json_text(text: str) -> bool:
    if not text.lstrip().startswith(("{", "[")):
        return False
    try:
        return isinstance(json.loads(text), (dict, list))
    except (ValueError, RecursionError):
        return False


def of_malformed(text: str, secrets: Mapping[str, "Secret"] | None = None) -> Diagnosis | None:
    """The mistake that explains a token PyJWT refuses, if one does: a secret pasted as the token,
    or a payload encoded twice."""
    found = looks_like_secret(text, secrets)
    if found is not None:
        return found
    segments = read_segments(text.strip())
    return double_encoded(segments.payload) if segments.has_payload else None


def other_flow(expected: "Flow", found: "Attribution") -> Diagnosis | None:
    """The payload, by its own evidence, is clearly another flow's than the one it is sent for:
    attribution chose another flow, and the expected one is not within one piece of evidence of it."""
    from .attribution import AMBIGUOUS_MARGIN

    if found.flow is None or found.flow.id == expected.id or not found.scores:
        return None
    best = found.scores[0][1]
    score = dict(found.scores).get(expected.id)
    if score is not None and best - score < AMBIGUOUS_MARGIN:
        return None
    return Diagnosis("token-of-other-flow",
                     f"it signs {_article(found.flow.id)} {found.flow.id} payload, not {_article(expected.id)} "
                     f"{expected.id} one")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


def missing_since(flows: "FlowRegistry", flow: "Flow", payload: Any, version: tuple[int, ...]) -> Diagnosis | None:
    """Parameters the flow requires to be signed from a version on (the schema's ``since`` parts,
    7.1's list for the editor config) that the payload lacks, where the base schema does not
    require them."""
    applied = [since for since, _ in flow.since if version >= since]
    if not applied or not isinstance(payload, dict):
        return None
    base = _missing(flows.validator(flow, (0,)), payload)
    missing = [p for p in _missing(flows.validator(flow, version), payload) if p not in base]
    if not missing:
        return None
    shown = ", ".join(missing[:16]) + (f" and {len(missing) - 16} more" if len(missing) > 16 else "")
    label = ", ".join(".".join(map(str, v)) for v in applied)
    return Diagnosis("missing-7.1-params", f"{label}'s list needs {shown}")


def _missing(validator, payload: dict) -> list[str]:
    """JSON pointers of the properties a validator finds missing."""
    from .extract.jsondoc import pointer_token

    out: list[str] = []
    stack = list(validator.iter_errors(payload))
    while stack:
        error = stack.pop()
        stack.extend(error.context or ())
        if error.validator == "required" and isinstance(error.instance, dict):
            base = "".join(f"/{pointer_token(str(p))}" for p in error.absolute_path)
            out += [f"{base}/{pointer_token(n)}" for n in error.validator_value if n not in error.instance]
    return sorted(set(out))


def wrapper(payload: Any, transport: str | None, flow: "Flow | None" = None) -> Diagnosis | None:
    """The ``{"payload": ...}`` wrapper on the wrong transport: a header token without it, a body
    or browser token with it (a flow that has no header transport takes no wrapper). ``transport``
    None: either form may be right (the flow has both)."""
    if not isinstance(payload, dict) or double_encoded(payload) is not None:
        return None
    wrapped = has_wrapper(payload)
    if transport == "header" and not wrapped:
        keys = [k for k in payload if k not in TIME_CLAIMS]
        return Diagnosis("header-token-without-wrapper",
                         f"the payload's keys are the parameters themselves ({', '.join(map(repr, keys[:5]))})"
                         if keys else "the payload is empty")
    takes_no_wrapper = transport in ("body", "browser") or (
        transport is None and flow is not None and "header" not in flow.transports)
    if wrapped and takes_no_wrapper:
        where = transport or "/".join(flow.transports if flow is not None else ())
        return Diagnosis("body-token-with-wrapper", f"a {where} token whose payload is {{\"payload\": {{...}}}}")
    return None


def alg_none(header: Any) -> Diagnosis | None:
    if isinstance(header, dict) and "alg" in header and str(header["alg"]).lower() == "none":
        return Diagnosis("alg-none", "the header says \"alg\": \"none\"")
    return None


def expired(payload: Any, now: float) -> Diagnosis | None:
    """exp in the past or nbf in the future (the clock is passed in: the tests set it)."""
    if not isinstance(payload, dict):
        return None
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if _number(exp) and exp < now:
        return Diagnosis("expired", f"exp {int(exp)} ({_when(exp)}) is in the past")
    if _number(nbf) and nbf > now:
        return Diagnosis("expired", f"nbf {int(nbf)} ({_when(nbf)}) is in the future: not valid yet")
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _when(seconds: float) -> str:
    """A NumericDate as a reader checks it: UTC, to the second."""
    import datetime

    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of the calendar's range"


def weak_secret(decoded: Decoded) -> Diagnosis | None:
    """The token verifies with an empty or publicly known secret (the engine's list and check)."""
    found = weak_secret_of(decoded)
    if found is None:
        return None
    return Diagnosis("weak-secret", "it verifies with an empty key" if found == "" else
                     "it verifies with a publicly known secret")
