"""What the previous check of a page worked out about its samples, reused while they are unchanged.

Reading a token (PyJWT) and validating an example against its flow's schema (jsonschema) depend
on nothing but their input: the token's text; the flow, the schema parts its version applies and
the example's JSON. A check notes each outcome, as JSON text, under a digest of that input; the
cache keeps a page's notes with its findings (under the run's key: the tool, the schemas, the
settings, the secrets), and the next check of the page, after an edit, is given them back. A page
edited in its prose, or with one sample changed, then reads and validates only what changed: its
check imports neither library when nothing it validates changed (importing them is most of what a
warm run after an edit waits for).

Notes are taken only while a page is checked by a run (``taking``): elsewhere (the plugin, ``fix``)
every outcome is worked out. A note is only ever the outcome its work gave: one whose text does
not read as its reader expects (a cache file written by hand) is worked out again.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

# (the previous check's notes, this check's) while a run checks a page, in this thread; else None
_NOTES: ContextVar[tuple[dict[str, str], dict[str, str]] | None] = ContextVar("oo_jwt_notes", default=None)


@contextmanager
def taking(given: dict[str, str] | None) -> Iterator[dict[str, str]]:
    """Check a page with the notes of its previous check (``given``); yields the notes this check
    takes: the outcomes it needed, worked out or given (what it no longer needs is left out)."""
    taken: dict[str, str] = {}
    reset = _NOTES.set((given or {}, taken))
    try:
        yield taken
    finally:
        _NOTES.reset(reset)


def recalled(kind: str, what: str | None, work: Callable[[], Any], reads: Callable[[Any], bool]) -> Any:
    """The outcome of ``work`` (JSON-able), for the input ``what`` (its text; None: it has none,
    as an example holding an expression, and nothing is noted): given back if noted, else worked
    out and noted. ``reads`` tells whether a note's value has the shape the caller reads."""
    notes = _NOTES.get()
    if notes is None or what is None:
        return work()
    given, taken = notes
    key = hashlib.sha256(f"{kind}\0{what}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    text = taken.get(key)
    if text is None:
        text = given.get(key)
        value = _read(text)
        if value is not _UNREAD and reads(value):
            taken[key] = text
            return value
        text = taken[key] = json.dumps(work(), separators=(",", ":"))
    # read back from its note, as a later check is given it: the same outcome, cold or warm
    return json.loads(text)


def canonical(value: Any) -> str | None:
    """The JSON text of an example's value (its members in the order written), or None if it
    holds what JSON cannot write as it is: an expression, or a key that is not a string (a Python
    dict's ``1`` would be written as ``"1"``, and two values validated apart would share a note)."""
    try:
        if not _string_keys(value):
            return None
        return json.dumps(value, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _string_keys(value: Any) -> bool:
    if type(value) is dict:
        return all(type(key) is str and _string_keys(item) for key, item in value.items())
    if type(value) is list:
        return all(_string_keys(item) for item in value)
    return True


_UNREAD = object()


def _read(text: Any) -> Any:
    if type(text) is not str:
        return _UNREAD
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _UNREAD
