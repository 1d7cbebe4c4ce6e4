"""tree-sitter parsers (loaded on first use) and byte-to-character offsets for their trees."""

from __future__ import annotations

from functools import lru_cache


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
    table = [0] * (len(data) + 1)
    pos = 0
    for i, ch in enumerate(source):
        n = len(ch.encode("utf-8"))
        for k in range(n):
            table[pos + k] = i
        pos += n
    table[len(data)] = len(source)
    return table.__getitem__
