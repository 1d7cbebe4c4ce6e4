"""JSON with comments (```jsonc``` and ```json5``` blocks): ``//`` and ``/* */`` comments, trailing commas.

tree-sitter-json reads comments (as ``comment`` nodes) and recovers from a trailing comma, so both
are found in its tree, never by looking at characters (a ``//`` inside a string is not a comment).
They are blanked with spaces (same length, line breaks kept: offsets hold) before the standard
``json`` reads the value. A comment that holds ``...`` or ``…`` elides part of the example: where
it was is returned, so that its object is open, as with an elision line in a plain JSON block.
"""

from __future__ import annotations

from .jsondoc import ELISION
from .treesitter import char_offsets, parser


def mask_comments(text: str) -> tuple[str, list[int]]:
    """The text with comments and trailing commas blanked, and the offsets of the comments that elide."""
    if "/" not in text and "," not in text:
        return text, []
    data = text.encode("utf-8")
    offset = char_offsets(text, data)
    blanks: list[tuple[int, int]] = []
    elisions: list[int] = []
    stack = [parser("json").parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            start, end = offset(node.start_byte), offset(node.end_byte)
            blanks.append((start, end))
            if ELISION.search(text, start, end):
                elisions.append(start)
            continue
        if node.type in ("object", "array"):
            blanks += [(offset(b), offset(b) + 1) for b in _trailing_commas(node)]
        stack.extend(node.children)
    if not blanks:
        return text, []
    chars = list(text)
    for start, end in blanks:
        for i in range(start, end):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars), sorted(elisions)


def _trailing_commas(node) -> list[int]:
    """Byte offsets of the commas right before the closing bracket of an object or array (comments
    between them skipped): tree-sitter keeps such a comma as an anonymous ``,`` followed by a missing
    value (in an array) or as an ERROR node holding only the comma (in an object)."""
    kids = [c for c in node.children if c.type != "comment" and not c.is_missing]
    out = []
    for before, after in zip(kids, kids[1:]):
        if after.type not in ("}", "]"):
            continue
        if before.type == ",":
            out.append(before.start_byte)
        elif before.type == "ERROR" and [c.type for c in before.children] == [","]:
            out.append(before.children[0].start_byte)
    return out
