"""What a JWT looks like in text: three base64url segments, the first a JSON header (``eyJ``); and
a JWT soft-wrapped over lines."""

from __future__ import annotations

import re

from ..page import INVISIBLE

_B64 = r"A-Za-z0-9_\-"
JWT = re.compile(rf"(?<![{_B64}.])eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*(?![{_B64}.])")
# blanks, and the marks a right-to-left or a copied text holds unseen (bidirectional marks and
# embeddings, zero-width spaces): they part a label from its token as a blank does
_GAP = r"[\s\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]*"
# what a token alone may stand in: a code span, HTML's <code>, quotes or brackets of any script
# (「eyJ...」, «eyJ...», "eyJ...")
_OPEN = "(?:`|<code>|[「『《〈«‹“‘\"'(\\[])?"
_CLOSE = "(?:`|</code>|[」』》〉»›”’\"')\\]])?"
# a token alone, in a code span, HTML's <code> or quotes at most
WHOLE_JWT = re.compile(rf"{_OPEN}{_GAP}(eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*){_GAP}{_CLOSE}")
# a short label ending in a colon: "Sample token:", "示例令牌："
LABEL = re.compile(r"[^`\n]{1,60}?[:：][*_]*")
# a short label, then the token alone: "Sample token: `eyJ...`", "示例令牌：eyJ...", "サンプルトークン：「eyJ...」"
LABELLED_JWT = re.compile(rf"{LABEL.pattern}{_GAP}{WHOLE_JWT.pattern}")
# A code block's line that holds only a token with a part lost, added or broken (alone, or after
# a short label: "Sample token: eyJ..."), not a whole JWT: a token (token-malformed), never prose to
# pass over in silence. Its characters are base64url's, dots, and what a botched copy brings in
# (standard base64's "+", "/" and "=" padding, a zero-width space), in one run or in runs a blank
# (or a non-breaking space) apart (see ``broken_token``)
_BROKEN = rf"eyJ[{_B64}.=+/{INVISIBLE}]*(?:[ \t\u00a0]+[{_B64}.=+/{INVISIBLE}]+)*"
BROKEN_TOKEN = re.compile(_BROKEN)
LABELLED_BROKEN_TOKEN = re.compile(rf"{LABEL.pattern}{_GAP}({_BROKEN})")


# a JWT a table cell breaks with <br> (how a line break is written in a cell)
_BR = re.compile(r"<br\s*/?>", re.I)
_BROKEN_BY_BR = re.compile(rf"eyJ[{_B64}.]*(?:<br\s*/?>[{_B64}.]+)+", re.I)


def br_broken_jwts(text: str) -> list[tuple[int, int, str]]:
    """The JWTs of ``text`` broken with ``<br>``: (start, end, the token without the breaks)."""
    found = []
    for m in _BROKEN_BY_BR.finditer(text):
        token = _BR.sub("", m.group())
        if JWT.fullmatch(token):
            found.append((m.start(), m.end(), token))
    return found


def broken_token(line: str) -> int | None:
    """Where a broken token starts on a code block's line (stripped) that holds only it, or a short
    label and it; None when the line is no such token. One run of its characters is one when it
    has a dot (a part lost, two tokens joined, padding) or is a JOSE header alone (a JSON object
    naming its "alg": base64url JSON of anything else, an encoded state, is no token). Runs a blank
    apart are a token with blanks in it only when joined they make three segments or more, and no
    whole JWT stands among them (a token and words after it are a mention, as prose)."""
    at = 0 if BROKEN_TOKEN.fullmatch(line) else None
    if at is None:
        labelled = LABELLED_BROKEN_TOKEN.fullmatch(line)
        if labelled is None:
            return None
        at = labelled.start(1)
    runs = line[at:].split()
    if len(runs) > 1:
        return at if "".join(runs).count(".") >= 2 and JWT.search(line, at) is None else None
    return at if "." in runs[0] or _alg(runs[0]) is not None else None


# A token broken over lines (an editor's hard wrap, a copy from a narrow terminal) is one token: a
# line ending with the beginning of one, then lines that hold only its continuation, until it is
# whole: three segments and a signature as long as its algorithm's (HS256: 32 bytes, 43
# characters; at least that for an algorithm whose length varies), or none at all when the header
# says "alg": "none" (an unsigned token is whole as it stands: what follows is not its signature).
# A line is joined only where it can continue the token: no dot past the third segment, no "eyJ"
# (another token) except where the payload begins, not a rule such as "---" (no letter or digit).
# Joined lines that do not make a token that decodes are not joined when the first line holds a
# token on its own: each line is then read alone.
SHORTEST_SIGNATURE = 43
_SIGNATURE_LENGTH = {"HS256": 43, "HS384": 64, "HS512": 86, "ES256": 86, "ES384": 128, "ES512": 176}
_WRAPPED_MAX = 1_000_000  # characters: a bound on one token's joining (max_token_bytes judges it after)
_HEAD_ALONE = re.compile(rf"\s*(eyJ[{_B64}.]*)\s*")  # a line that is only the beginning of a token
_HEAD_AT_END = re.compile(rf"(?<![{_B64}.])(eyJ[{_B64}.]*)\s*$")  # ...or one that ends with it
_PIECE = re.compile(rf"[{_B64}.]*[A-Za-z0-9][{_B64}.]*")  # a token's characters, not only "-", "_", "."


def wrapped_jwts(text: str, in_prose: bool = False) -> list[tuple[int, int, str]]:
    """The JWTs of ``text`` broken over two or more lines: ``(start, end, token)``, the offsets of
    the token's first character and past its last, and the token with the breaks and indentation
    taken out. In a code block (``in_prose`` False) the token's first line holds nothing else, and
    lines of a token's characters after a first line that is no token on its own (a part lost)
    are still given, as the malformed token they make: never silently ignored. In prose the token
    may follow a label or text on its line, be in a code span, and end a sentence; only what makes
    a JWT is given."""
    lines = text.split("\n")
    starts = [0] * len(lines)
    for i in range(1, len(lines)):
        starts[i] = starts[i - 1] + len(lines[i - 1]) + 1
    found = []
    i = 0
    while i < len(lines):
        head = (_HEAD_AT_END.search if in_prose else _HEAD_ALONE.fullmatch)(lines[i].rstrip("`" if in_prose else ""))
        first = head.group(1) if head else ""
        if not head or first.count(".") > 2 or not _incomplete(first):
            i += 1
            continue
        start, end, j = starts[i] + head.start(1), None, i + 1
        pieces, dots, length = [first], first.count("."), len(first)
        alg = _alg(first.split(".", 1)[0]) if dots else None
        signature = len(first.rsplit(".", 1)[1]) if dots == 2 else 0
        while j < len(lines) and (dots < 2 or signature < _signature_length(alg)) and length < _WRAPPED_MAX:
            line = lines[j]
            piece = line.strip()
            if in_prose:
                piece = piece.rstrip("`")
                if piece.endswith(".") and dots + piece.count(".") == 3:
                    piece = piece[:-1]  # the full stop of the sentence the token ends
            if not _PIECE.fullmatch(piece) or dots + piece.count(".") > 2:
                break  # not a token's characters, or a segment too many: not this token's
            if piece.startswith("eyJ") and not (dots == 1 and pieces[-1].endswith(".")):
                break  # the beginning of another token (where the payload begins, "eyJ" is it)
            if not dots and "." in piece:
                alg = _alg("".join(pieces) + piece.split(".", 1)[0])  # the header ends on this line
            pieces.append(piece)
            end, j = starts[j] + len(line) - len(line.lstrip()) + len(piece), j + 1
            dots += piece.count(".")
            if "." in piece:
                signature = len(piece.rsplit(".", 1)[1]) if dots == 2 else 0
            elif dots == 2:
                signature += len(piece)
            length += len(piece)
        token = "".join(pieces)
        if end is not None and JWT.fullmatch(first) and not decodes(token):
            end = None  # the first line is a token on its own, and the lines after it make none
        if end is not None and (not in_prose or JWT.fullmatch(token)):
            found.append((start, end, token))
            i = j
        else:
            i += 1
    return found


def _incomplete(token: str) -> bool:
    """Is this the beginning of a token, not yet all of it (fewer than three segments, or a
    signature shorter than its algorithm's; an unsigned token has none)?"""
    segments = token.split(".")
    return len(segments) < 3 or len(segments[2]) < _signature_length(_alg(segments[0]))


def decodes(token: str) -> bool:
    """Is the token whole: a JSON object header naming its "alg", a JSON object payload, and a
    signature of its algorithm's length (at least the shortest's when that varies; none for
    "none")?"""
    segments = token.split(".")
    if len(segments) != 3 or _json_object(segments[1]) is None:
        return False
    alg, signature = _alg(segments[0]), segments[2]
    if alg is None:
        return False
    if alg.lower() == "none":
        return not signature
    wanted = _SIGNATURE_LENGTH.get(alg)
    return len(signature) == wanted if wanted else len(signature) >= SHORTEST_SIGNATURE and len(signature) % 4 != 1


def _signature_length(alg: str | None) -> int:
    """How many characters a signature of ``alg`` has (at least): none for an unsigned token."""
    if alg is not None and alg.lower() == "none":
        return 0
    return _SIGNATURE_LENGTH.get(alg or "", SHORTEST_SIGNATURE)


def _alg(header: str) -> str | None:
    """The "alg" a base64url header names, or None when it is no JSON object with one."""
    value = _json_object(header)
    alg = value.get("alg") if value is not None else None
    return alg if isinstance(alg, str) else None


def _json_object(segment: str) -> dict | None:
    """A base64url segment's JSON object, or None when it is not one."""
    import base64
    import binascii
    import json

    if len(segment) % 4 == 1 or len(segment) > _WRAPPED_MAX:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
