"""JSON values with the source span of every value, for JSON-pointer findings at exact lines.

The value and its syntax errors come from the standard library's ``json`` (the same parser the
tokens' payloads go through); the positions come from tree-sitter-json's syntax tree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .treesitter import char_offsets, parser


class JsonDoc:
    """A JSON value, and where each of its values and keys is in the text it was read from:
    ``spans`` (pointer -> value span), ``key_spans`` (pointer -> key span), ``duplicates`` (the
    pointers of repeated keys), offsets in that text. Read by ``parse``, the places are worked out
    on first use (``_locate``, from a syntax tree of the text): a check needs them only to place a
    finding, a token property or an elision, which most examples never have."""

    def __init__(self, value: Any, start: int, end: int, spans: dict[str, tuple[int, int]] | None = None,
                 key_spans: dict[str, tuple[int, int]] | None = None, duplicates: list[str] | None = None):
        self.value = value
        self.start = start
        self.end = end
        self._places: tuple[dict, dict, list] | None = (
            {} if spans is None else spans, {} if key_spans is None else key_spans, [] if duplicates is None else duplicates)
        self._unplaced: tuple[str, int, int] | None = None  # (text, start, end) still to be located
        self._repeats = True  # whether an object of the value repeats a key (unknown: True)

    @classmethod
    def read(cls, value: Any, text: str, start: int, end: int, repeats: bool) -> "JsonDoc":
        """The value ``json`` read from ``text[start:end]``, placed when asked; ``repeats``: whether
        ``json`` met a key twice in one object (if not, no key is a duplicate, and none is looked for)."""
        doc = cls(value, start, end)
        doc._places, doc._unplaced, doc._repeats = None, (text, start, end), repeats
        return doc

    def _placed(self) -> tuple[dict, dict, list]:
        if self._places is None:
            text, start, end = self._unplaced  # type: ignore[misc]
            self._places = ({}, {}, [])
            _locate(text[start:end], start, *self._places)
            self._unplaced = None
        return self._places

    @property
    def spans(self) -> dict[str, tuple[int, int]]:
        return self._placed()[0]

    @spans.setter
    def spans(self, spans: dict[str, tuple[int, int]]) -> None:
        self._places = (spans, *self._placed()[1:])

    @property
    def key_spans(self) -> dict[str, tuple[int, int]]:
        return self._placed()[1]

    @property
    def duplicates(self) -> list[str]:
        return self._placed()[2] if self._places is not None or self._repeats else []


@dataclass
class JsonFault:
    message: str
    offset: int  # where the parser stopped, in the parsed text


ELISION = re.compile(r"\.\.\.|…")  # "...", "…": the writer left something out here
# a line that elides part of an example: "...", "…", "// ...", "/* ... */", or an array "[...]". A
# comment elides only where it says so ("..." or "…" in it, as in a jsonc block): any other comment
# ("// the previous version") is no JSON, and the example does not parse (json-syntax)
_ELISION_LINE = re.compile(
    r"(?m)^[ \t]*+(?://[^\n]*?(?:\.\.\.|…)[^\n]*+|/\*[^\n]*?(?:\.\.\.|…)[^\n]*?\*/|\.\.\.|…)[ \t]*+,?[ \t]*+$")
_ELIDED_ARRAY = re.compile(r"\[\s*(?:\.\.\.|…)\s*\]")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def mask_elisions(text: str) -> tuple[str, list[int]]:
    """The text with elisions blanked (same length, so offsets hold), and where they were."""
    found: list[int] = []

    def blank(m: re.Match) -> str:
        found.append(m.start() + (len(m.group()) - len(m.group().lstrip())))
        return re.sub(r"[^\n]", " ", m.group())

    masked = _ELISION_LINE.sub(blank, text)
    def blank_inside(m: re.Match) -> str:
        found.append(m.start() + 1)
        return "[" + " " * (len(m.group()) - 2) + "]"

    masked = _ELIDED_ARRAY.sub(blank_inside, masked)
    if not found:
        return text, []
    masked = _TRAILING_COMMA.sub(lambda m: " " + m.group(1), masked)
    return masked, found


def open_pointers(doc: "JsonDoc", offsets: list[int]) -> frozenset[str]:
    """Pointers of the innermost objects or arrays holding each elision."""
    out = set()
    for offset in offsets:
        best = None
        for pointer, (start, end) in doc.spans.items():
            if start < offset < end and (best is None or end - start < best[1]):
                best = (pointer, end - start)
        if best:
            out.add(best[0])
    return frozenset(out)


def pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class NotJson(ValueError):
    """Python's json accepts it, JSON does not (NaN, Infinity, numbers beyond a double's range)."""


def _constant(name: str):
    raise NotJson(f"{name} is not JSON")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotJson(f"number {text[:40]} is beyond the range of a double")
    return value


def _decoder(duplicates: list) -> json.JSONDecoder:
    def pairs(items: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    return json.JSONDecoder(object_pairs_hook=pairs, parse_constant=_constant, parse_float=_float)


DEFAULT_MAX_DEPTH = 200
# tried only where a run of digits starts, so a long run is scanned once, not once per digit
_NOT_JSON_AT = re.compile(r"-?Infinity|NaN|(?<![\d.])-?\d++(?:\.\d++)?+[eE][+-]?\d{3,}+|(?<!\d)\d{4300,}+")


def _depth(value: Any) -> int:
    """How deeply a parsed value nests (iteratively: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node)
    return deepest


def _sentence(exc: json.JSONDecodeError) -> str:
    """The parser's message as a whole sentence. ``json`` writes some of its messages to be
    followed by the position ("Unterminated string starting at", "Invalid control character
    at"); a finding gives the position itself, as line and column, so these are said in full."""
    msg, text, pos = exc.msg, exc.doc, exc.pos
    if msg.startswith("Unterminated string"):
        return "a string is not closed: its closing quote is missing"
    if msg.startswith("Invalid control character"):
        if text[pos : pos + 1] in ("\n", "\r"):
            return "a string runs past the end of its line: its closing quote is missing (a line break in a string is written \\n)"
        code = f"U+{ord(text[pos]):04X} " if pos < len(text) else ""
        return f"control character {code}inside a string (write it as an escape such as \\t or \\n)"
    if msg.startswith("Invalid \\escape"):
        at = pos if text[pos : pos + 1] == "\\" else pos - 1
        return f"invalid escape {text[at : at + 2]} in a string (JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
    if msg.startswith("Invalid \\uXXXX"):
        return "invalid \\u escape in a string (\\u takes four hexadecimal digits)"
    return msg[: -len(" at")] if msg.endswith(" at") else msg


def parse(text: str, start: int = 0, max_depth: int = DEFAULT_MAX_DEPTH) -> JsonDoc | JsonFault:
    """Parse the JSON value that begins at ``start`` (after optional whitespace)."""
    duplicates: list[str] = []
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    try:
        value, end = _decoder(duplicates).raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return JsonFault(_sentence(exc), exc.pos)
    except RecursionError:
        return JsonFault(f"nested deeper than max_json_depth ({max_depth}): not read", start)
    except ValueError as exc:  # NotJson, or an integer of more digits than Python converts
        at = _NOT_JSON_AT.search(text, start)
        return JsonFault(str(exc).split(";")[0][:120], at.start() if at else start)
    if _depth(value) > max_depth:
        return JsonFault(f"nested deeper than max_json_depth ({max_depth}): not read", start)
    return JsonDoc.read(value, text, start, end, repeats=bool(duplicates))


def _locate(source: str, base: int, spans: dict, key_spans: dict, duplicates: list) -> None:
    data = source.encode("utf-8")
    offset = char_offsets(source, data)
    to_char = lambda b: base + offset(b)  # noqa: E731
    tree = parser("json").parse(data)
    root = tree.root_node
    values = [c for c in root.named_children if c.type != "comment"]
    if not values:
        return
    stack = [(values[0], "")]
    while stack:
        node, pointer = stack.pop()
        # siblings are visited last first, so with a repeated key the later value's span wins,
        # as its value does in ``json``
        spans.setdefault(pointer, (to_char(node.start_byte), to_char(node.end_byte)))
        if node.type == "object":
            seen = set()
            for pair in node.named_children:
                if pair.type != "pair":
                    continue
                key_node = pair.child_by_field_name("key")
                value_node = pair.child_by_field_name("value")
                if key_node is None:
                    continue
                written = data[key_node.start_byte : key_node.end_byte]
                if len(written) >= 2 and written[0] == written[-1] == 0x22 and b"\\" not in written:
                    # a string with no escape is its text (``text`` was read by ``json``, which
                    # allows no control character in a string): no decoder call per key
                    key = written[1:-1].decode("utf-8")
                else:
                    try:
                        key = json.loads(written)
                    except ValueError:
                        continue
                child = f"{pointer}/{pointer_token(str(key))}"
                if child in seen:
                    duplicates.append(child)
                seen.add(child)
                key_spans[child] = (to_char(key_node.start_byte), to_char(key_node.end_byte))
                if value_node is not None:
                    stack.append((value_node, child))
        elif node.type == "array":
            items = [c for c in node.named_children if c.type != "comment"]
            for index, item in enumerate(items):
                stack.append((item, f"{pointer}/{index}"))
