"""A page as read from disk: its text, and the line and column of any offset in it.

Lines are delimited exactly as markdown-it-py delimits them (``\\r\\n``, ``\\r`` or ``\\n``), so a
block's ``map`` line numbers index ``Page.lines`` directly. A UTF-8 BOM is kept aside: offsets and
columns count from the first character after it, and ``encode`` puts it back.
"""

from __future__ import annotations

import bisect
import os
import re
from functools import cached_property
from itertools import accumulate

from .model import Location, Span

BOM = "\ufeff"
_NEWLINE = re.compile(r"\r\n?|\n")


PLACE_PARTS = 3  # the page's file name and the two folders it is in


# what a copy from a word processor, a browser or a chat slips into text, unseen: zero-width
# spaces and joiners, a word joiner, a byte order mark (a non-breaking space is whitespace)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def place_of(path: str) -> str:
    """Where the page is, as text: ``command-service/version.md`` names its topic in every
    language (a translation keeps its file's path), as an outermost heading would. Evidence of
    the flows of its examples: a page's findings depend on its place as on its bytes."""
    return "/".join(path.replace("\\", "/").split("/")[-PLACE_PARTS:])


class PageDecodeError(ValueError):
    """The bytes of a page are not UTF-8 text; ``line`` is the 1-based line of the first bad byte."""

    def __init__(self, line: int, column: int, reason: str):
        super().__init__(f"not valid UTF-8 at line {line}, column {column}: {reason}")
        self.line = line
        self.column = column


class Page:
    """A page (never changed once made). A plain class, not a dataclass: a warm run imports this
    module before its first page, and ``dataclasses`` costs that start more than the page's
    whole look (see ``model``)."""

    def __init__(self, path: str, text: str, bom: bool = False, place: str = ""):
        self.path = path  # as reported: the path given on the command line joined with the file's path in a folder
        self.text = text  # decoded, BOM removed, line endings as in the file
        self.bom = bom
        # ``place_of`` the file's real path (the same wherever the run starts, whatever ``path``
        # shows); "" where the page has no file: its ``path`` is taken instead (see ``where``)
        self.place = place

    def __repr__(self) -> str:
        return f"Page(path={self.path!r}, {len(self.text)} characters)"

    def _key(self) -> tuple:
        return self.path, self.text, self.bom, self.place

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Page) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def where(self) -> str:
        """The page's place: evidence of its examples' flows, as an outermost heading would be."""
        return self.place or place_of(self.path)

    @classmethod
    def from_bytes(cls, path: str, data: bytes, file: str | None = None) -> "Page":
        """``file``: where it was read from (its place is taken from its absolute path)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = data[: exc.start]
            line = before.count(b"\n") + 1
            column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
            raise PageDecodeError(line, column, exc.reason) from None
        if "\x00" in text:
            raise PageDecodeError(*_first_nul(text), "NUL byte: a binary file, not a page")
        bom = text.startswith(BOM)
        return cls(path, text[1:] if bom else text, bom, place_of(os.path.abspath(file)) if file else "")

    def encode(self, text: str | None = None) -> bytes:
        """The bytes of this page (or of ``text`` standing for it), BOM restored."""
        return ((BOM if self.bom else "") + (self.text if text is None else text)).encode("utf-8")

    @cached_property
    def line_starts(self) -> list[int]:
        if "\r" in self.text:
            return [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        # only "\n" ends a line: each line starts one past the end of the one before (a third of the time)
        return [0, *accumulate(len(line) + 1 for line in self.lines)][:-1]

    @cached_property
    def lines(self) -> list[str]:
        """Each line's text without its terminator; index = 0-based line number (as ``line_starts``:
        a text ending with a line end has an empty last line)."""
        return _NEWLINE.split(self.text) if "\r" in self.text else self.text.split("\n")

    def line_of(self, offset: int) -> int:
        """0-based line of an offset."""
        return bisect.bisect_right(self.line_starts, offset) - 1

    def offset(self, line: int, column: int = 0) -> int:
        """Offset of a 0-based line and 0-based column."""
        return self.line_starts[line] + column

    def location(self, span: Span) -> Location:
        line = self.line_of(span.start)
        end = max(span.end, span.start)
        end_line = self.line_of(end)
        return Location(
            line + 1,
            span.start - self.line_starts[line] + 1,
            end_line + 1,
            end - self.line_starts[end_line] + 1,
        )

    def line_span(self, line: int) -> Span:
        start = self.line_starts[line]
        return Span(start, start + len(self.lines[line]))


def _first_nul(text: str) -> tuple[int, int]:
    i = text.index("\x00")
    before = text[:i]
    return before.count("\n") + 1, i - (before.rfind("\n") + 1) + 1
