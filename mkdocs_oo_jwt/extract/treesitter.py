"""tree-sitter parsers (loaded on first use) and byte-to-character offsets for their trees."""

from __future__ import annotations

from functools import lru_cache
from itertools import accumulate

# byte -> 1 if it begins a UTF-8 character, 0 for a continuation byte
_BEGINS_CHARACTER = bytes(0 if 0x80 <= b < 0xC0 else 1 for b in range(256))


@lru_cache(maxsize=None)
def parser(language: str):
    """A parser for "json", "javascript", "typescript", "tsx" or "python"."""
    from tree_sitter import Language, Parser

    if language == "json":
        import tree_sitter_json as grammar

        return Parser(Language(grammar.language()))
    if language == "python":
        import tree_sitter_python as grammar

        return Parser(Language(grammar.language()))
    if language == "javascript":
        import tree_sitter_javascript as grammar

        return Parser(Language(grammar.language()))
    import tree_sitter_typescript as grammar

    lang = grammar.language_tsx() if language == "tsx" else grammar.language_typescript()
    return Parser(Language(lang))


def char_offsets(source: str, data: bytes):
    """A function from a byte offset in ``data`` (``source`` encoded as UTF-8) to a character offset."""
    if len(data) == len(source):
        return lambda b: b
    # the character offset of a byte is the number of characters begun before it: a count of the
    # bytes that are not UTF-8 continuation bytes (0b10xxxxxx), summed in C, not a loop per character
    table = list(accumulate(data.translate(_BEGINS_CHARACTER), initial=0))
    return table.__getitem__
