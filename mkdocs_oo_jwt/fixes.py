"""Apply fixes to a text: no overlaps, back to front, splice. Every other character is kept."""

from __future__ import annotations

from typing import Iterable

from .model import Fix


class OverlappingFixes(ValueError):
    pass


def apply(text: str, fixes: Iterable[Fix]) -> str:
    ordered = sorted(set(fixes), key=lambda f: (f.span.start, f.span.end))
    for before, after in zip(ordered, ordered[1:]):
        if after.span.start < before.span.end:
            raise OverlappingFixes(f"fixes overlap at offsets {before.span.start}..{after.span.end}")
    if ordered and ordered[-1].span.end > len(text):
        raise OverlappingFixes("a fix lies outside the text")
    for fix in reversed(ordered):
        text = text[: fix.span.start] + fix.replacement + text[fix.span.end :]
    return text
