"""Reading a sample token: structure (PyJWT, unverified), weak secrets (stdlib hmac), differences."""

from __future__ import annotations

import hashlib
import hmac
import re
import warnings
from dataclasses import dataclass
from typing import Any

from . import remembered
from .model import UNKNOWN, Unknown  # noqa: F401 - re-exported for the extractors

# secrets that must never sign a real token: empty, and the ones tutorials and jwt.io publish
WEAK_SECRETS: tuple[str, ...] = (
    "", "secret", "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
    "your-secret", "your-secret-key", "secretkey", "secret-key", "mysecret", "changeme",
    "password", "key", "jwt-secret", "jwt_secret", "test", "example",
)
_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
TIME_CLAIMS = ("iat", "exp", "nbf")


@dataclass(frozen=True)
class Decoded:
    header: dict
    payload: dict
    signing_input: bytes
    signature: bytes


class Malformed(ValueError):
    """Why a text is not a JWT; ``by_library``: in PyJWT's words (``Invalid crypto padding``), which
    name no part or position: a caller may say it better (``diagnosis.read_segments``)."""

    def __init__(self, message: str, by_library: bool = False):
        super().__init__(message)
        self.by_library = by_library


# a JWT's three segments in base64url, no padding (RFC 7515, section 2)
_BASE64URL_SEGMENTS = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


def decode(text: str) -> Decoded:
    """The token's header and payload, unverified; ``Malformed`` says why it is not a JWT (as the
    previous check of the page read it, if it did: ``remembered``)."""
    if text.count(".") != 2:
        raise Malformed(f"not a JWT: {text.count('.') + 1} dot-separated segment(s), expected 3")
    reading = remembered.recalled("token", text, lambda: _read(text), _is_reading)
    if reading[0] == "malformed":
        raise Malformed(reading[1], by_library=reading[2])
    _, header, payload, signature = reading
    return Decoded(header, payload, text.rpartition(".")[0].encode("ascii"), bytes.fromhex(signature))


def _read(text: str) -> list:
    """["token", header, payload, signature in hex] or ["malformed", why, by_library]."""
    import jwt
    from jwt.utils import base64url_decode

    if not _BASE64URL_SEGMENTS.fullmatch(text):
        # PyJWT reads "=" padding and standard base64's "+" and "/" (and skips what is neither):
        # a JWT's segments hold none of them. Its words name no part: the caller's do
        return ["malformed", "not a JWT: a segment is not base64url", True]
    try:
        complete = jwt.api_jwt.decode_complete(
            text, options={"verify_signature": False}, algorithms=None
        )
    except jwt.PyJWTError as exc:  # DecodeError, and refusals such as an unsupported "crit"
        return ["malformed", f"not a JWT: {exc}", True]
    header = complete["header"]
    if "alg" not in header:
        return ["malformed", "not a JWT: the header has no \"alg\"", False]
    try:
        signature = base64url_decode(text.rpartition(".")[2].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return ["malformed", "not a JWT: the signature is not base64url", False]
    return ["token", header, complete["payload"], signature.hex()]


def _is_reading(note: Any) -> bool:
    if type(note) is not list or not note:
        return False
    if note[0] == "malformed":
        return len(note) == 3 and type(note[1]) is str and type(note[2]) is bool
    if note[0] == "token" and len(note) == 4 and type(note[1]) is dict and type(note[2]) is dict and type(note[3]) is str:
        try:
            bytes.fromhex(note[3])
        except ValueError:
            return False
        return True
    return False


def weak_secret(decoded: Decoded) -> str | None:
    """The published secret the token verifies with, if any (constant-time comparison)."""
    digest = _HASHES.get(str(decoded.header.get("alg")))
    if digest is None:
        return None
    for secret in WEAK_SECRETS:
        mac = hmac.new(secret.encode(), decoded.signing_input, digest).digest()
        if hmac.compare_digest(mac, decoded.signature):
            return secret
    return None


def verifies(text: str, secret: str, alg: str) -> bool:
    """Does the token verify with the secret? (PyJWT's own constant-time check.)"""
    import jwt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short demo secrets: reported once, elsewhere
        try:
            jwt.decode(
                text, secret, algorithms=[alg],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "verify_iss": False, "require": []},
            )
        except jwt.InvalidSignatureError:
            return False
        except jwt.PyJWTError:
            return False
    return True


def sign(payload: Any, secret: str) -> str:
    """What ``jwt.encode(payload, secret, "HS256")`` gives: the tool's regenerated token."""
    import jwt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(payload, secret, algorithm="HS256")


@dataclass(frozen=True)
class Difference:
    pointer: str
    kind: str  # "missing", "extra", "changed"
    expected: Any = None
    actual: Any = None


def differences(
    expected: Any, actual: Any, open_at: frozenset[str] = frozenset(), pointer: str = ""
) -> list[Difference]:
    """Every difference between an example and a token payload, as JSON pointers.

    A value that is ``UNKNOWN`` only needs to be present; under a pointer in ``open_at`` (an object
    or array with an elision) the token may have more members than the example.
    """
    if isinstance(expected, Unknown):
        return []
    is_open = pointer in open_at
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[Difference] = []
        for key, value in expected.items():
            child = f"{pointer}/{_esc(key)}"
            if key not in actual:
                out.append(Difference(child, "missing", value))
            else:
                out.extend(differences(value, actual[key], open_at, child))
        for key, value in actual.items():
            if key not in expected and not is_open and not (pointer == "" and key in TIME_CLAIMS):
                out.append(Difference(f"{pointer}/{_esc(key)}", "extra", None, value))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            child = f"{pointer}/{i}"
            if i >= len(actual):
                out.append(Difference(child, "missing", expected[i]))
            elif i >= len(expected):
                if not is_open:
                    out.append(Difference(child, "extra", None, actual[i]))
            else:
                out.extend(differences(expected[i], actual[i], open_at, child))
        return out
    if _same_scalar(expected, actual):
        return []
    return [Difference(pointer, "changed", expected, actual)]


def _same_scalar(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _esc(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
