"""What a JWT looks like in text: three base64url segments, the first a JSON header (``eyJ``); and
a JWT soft-wrapped over lines."""

from __future__ import annotations

import re

_B64 = r"A-Za-z0-9_\-"
JWT = re.compile(rf"(?<![{_B64}.])eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*(?![{_B64}.])")
WHOLE_JWT = re.compile(rf"`?\s*(eyJ[{_B64}]+\.[{_B64}]+\.[{_B64}]*)\s*`?")
# a short label ending in a colon: "Sample token:", "示例令牌："
LABEL = re.compile(r"[^`\n]{1,60}?[:：][*_]*")
# a short label, then the token alone: "Sample token: `eyJ...`", "示例令牌：eyJ..."
LABELLED_JWT = re.compile(rf"{LABEL.pattern}\s*{WHOLE_JWT.pattern}")

# A token broken over lines (an editor's hard wrap, a copy from a narrow terminal) is one token: a
# line ending with the beginning of one, then lines that hold only its continuation, until it has
# its three segments and a signature as long as the shortest there is (HS256: 32 bytes, 43
# characters). A continuation that starts a new token ("eyJ" where no segment begins) ends it.
SHORTEST_SIGNATURE = 43
_WRAPPED_MAX = 1_000_000  # characters: a bound on one token's joining (max_token_bytes judges it after)
_HEAD_ALONE = re.compile(rf"\s*(eyJ[{_B64}.]*)\s*")  # a line that is only the beginning of a token
_HEAD_AT_END = re.compile(rf"(?<![{_B64}.])(eyJ[{_B64}.]*)\s*$")  # ...or one that ends with it
_PIECE = re.compile(rf"[{_B64}.]+")


def wrapped_jwts(text: str, in_prose: bool = False) -> list[tuple[int, int, str]]:
    """The JWTs of ``text`` broken over two or more lines: ``(start, end, token)``, the offsets of
    the token's first character and past its last, and the token with the breaks and indentation
    taken out. In a code block (``in_prose`` False) the token's first line holds nothing else, and
    lines of a token's characters after it that do not make a JWT (a part lost, a segment too
    many) are still given, as the malformed token they are: never silently ignored. In prose the
    token may follow a label or text on its line, be in a code span, and end a sentence; only what
    makes a JWT is given."""
    lines = text.split("\n")
    starts = [0] * len(lines)
    for i in range(1, len(lines)):
        starts[i] = starts[i - 1] + len(lines[i - 1]) + 1
    found = []
    i = 0
    while i < len(lines):
        head = (_HEAD_AT_END.search if in_prose else _HEAD_ALONE.fullmatch)(lines[i].rstrip("`" if in_prose else ""))
        token = head.group(1) if head else ""
        if not head or token.count(".") > 2 or not _incomplete(token):
            i += 1
            continue
        start, end, j = starts[i] + head.start(1), None, i + 1
        pieces, dots, length = [token], token.count("."), len(token)
        signature = len(token.rsplit(".", 1)[1]) if dots == 2 else 0
        while j < len(lines) and (dots < 2 or signature < SHORTEST_SIGNATURE) and length < _WRAPPED_MAX:
            line = lines[j]
            piece = line.strip()
            if in_prose:
                piece = piece.rstrip("`")
                if piece.endswith(".") and dots + piece.count(".") == 3:
                    piece = piece[:-1]  # the full stop of the sentence the token ends
            if not _PIECE.fullmatch(piece) or (in_prose and dots + piece.count(".") > 2):
                break
            if piece.startswith("eyJ") and not pieces[-1].endswith("."):
                break  # the beginning of another token
            pieces.append(piece)
            end, j = starts[j] + len(line) - len(line.lstrip()) + len(piece), j + 1
            dots += piece.count(".")
            if "." in piece:
                signature = len(piece.rsplit(".", 1)[1]) if dots == 2 else 0
            elif dots == 2:
                signature += len(piece)
            length += len(piece)
            if dots > 2:
                break  # a segment too many (in a code block): the malformed token ends here
        token = "".join(pieces)
        if end is not None and (not in_prose or JWT.fullmatch(token)):
            found.append((start, end, token))
            i = j
        else:
            i += 1
    return found


def _incomplete(token: str) -> bool:
    """Is this the beginning of a token, not yet all of it (fewer than three segments, or a
    signature shorter than any algorithm's)?"""
    segments = token.split(".")
    return len(segments) < 3 or len(segments[2]) < SHORTEST_SIGNATURE
