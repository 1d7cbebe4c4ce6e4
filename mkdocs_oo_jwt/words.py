"""Words and names in prose, for attribution: what a heading, a lead-in or a link target says.

``stems`` lowers and stems every word (camelCase and snake_case split, so ``callbackUrl`` says
"callback" and "url", a link target ``/editors/open`` says "editor" and "open"), so that open,
opening and opened are one word. ``names`` are the identifiers as written (case kept): the method
``insertImage`` is named in any language, in prose, in code spans and in link anchors.
"""

from __future__ import annotations

import re
from functools import lru_cache

# a word: a capitalised or lower-case run, an upper-case run not followed by lower case (URLs in
# "callbackURL"), or digits; camelCase splits at the capital
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: the Snowball stemmers in C (the pure-Python package imports every language)

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())


@lru_cache(maxsize=4096)
def stems(text: str, among: frozenset[str] | None = None) -> frozenset[str]:
    """Every word of ``text``, lower-cased and stemmed; with ``among`` (a vocabulary's stems), only
    those of them (a word is stemmed only if it begins as one of them does, since a stem is a
    word's beginning but for its last letter: history, histori)."""
    words = _WORD.findall(text)
    if among is not None:
        length, starts = _starts(among)
        words = [w for w in words if w[:length].lower() in starts]
    found = frozenset(stem(w) for w in words)
    return found if among is None else found & among


PREFIX = 3


@lru_cache(maxsize=16)
def _starts(among: frozenset[str]) -> tuple[int, frozenset[str]]:
    length = min([PREFIX, *map(len, among)])
    return length, frozenset(s[:length] for s in among)


@lru_cache(maxsize=4096)
def names(text: str) -> frozenset[str]:
    """Every identifier of ``text`` as written (``docEditor.insertImage`` gives both parts)."""
    return frozenset(_NAME.findall(text))


def stems_of_words(words) -> frozenset[str]:
    """The stems of a vocabulary (each entry may be a phrase: all its words count)."""
    return frozenset(s for w in words for s in stems(w))
