"""HTTP messages as written in docs: a request (or status) line, headers, then an optional body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
# In an untagged block a request line must carry its HTTP version; in an http block it need not.
REQUEST_LINE = re.compile(rf"(?P<method>{METHODS})[ \t]+(?P<target>\S+)(?P<version>[ \t]+HTTP/\d(?:\.\d)?)?[ \t]*$")
STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)?[ \t]+(?P<status>\d{3})\b.*$")
HEADER_LINE = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9-]*)[ \t]*+:[ \t]*+(?P<value>.*)$")


@dataclass
class HttpMessage:
    """Offsets are into the text that was read."""

    method: str
    target: str
    status: int | None
    line: tuple[int, int]
    headers: list[tuple[str, str, tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    body_start: int | None = None  # offset of the first character of a body, if any
    end: int = 0  # offset just past the headers (before the body)


def start_of_message(line: str, strict: bool) -> bool:
    m = REQUEST_LINE.match(line)
    if m:
        return bool(m.group("version")) or not strict
    return bool(STATUS_LINE.match(line))


def read_message(text: str, start: int) -> HttpMessage:
    """Read the message whose first line starts at ``start`` (already known to be one)."""
    eol = _eol(text, start)
    first = text[start:eol]
    m = REQUEST_LINE.match(first)
    if m:
        msg = HttpMessage(m.group("method"), m.group("target"), None, (start, eol))
    else:
        status = STATUS_LINE.match(first)
        msg = HttpMessage("", "", int(status.group("status")) if status else 0, (start, eol))
    pos = eol + 1
    while pos < len(text):
        eol = _eol(text, pos)
        line = text[pos:eol]
        stripped = line.strip()
        if not stripped or stripped[0] in "{[":
            break
        h = HEADER_LINE.match(line)
        if not h:
            break
        value = h.group("value").rstrip(" \t")  # trailing blanks are not part of the value
        msg.headers.append(
            (h.group("name"), value, (pos, eol), (pos + h.start("value"), pos + h.start("value") + len(value)))
        )
        pos = eol + 1
    msg.end = min(pos, len(text))
    # the body: the next non-blank line, if it opens a JSON value
    while pos < len(text):
        eol = _eol(text, pos)
        stripped = text[pos:eol].strip()
        if stripped:
            if stripped[0] in "{[":
                msg.body_start = pos + (len(text[pos:eol]) - len(text[pos:eol].lstrip()))
            break
        pos = eol + 1
    return msg


def _eol(text: str, pos: int) -> int:
    eol = text.find("\n", pos)
    return len(text) if eol < 0 else eol
