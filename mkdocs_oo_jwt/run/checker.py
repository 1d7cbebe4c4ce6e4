"""Checking a page that was looked at, in whichever process of a run does it (the main one, a
checker of the pool, the checker on standby), and what each of them shares: the run's state, which
a forked process inherits (``RUN``), and the import of the checking machinery (``load_checking``).

A page goes through a run as a ``Looked`` tuple: (index, file, shown, findings or None when the
page is still to be checked, roles without a secret, keep, content hash ("" for a page with
nothing to check), stamp (``stamps.stamp_of``) as read or None, the page's bytes when it is to be
checked, notes: the ``remembered`` notes of its previous check when it is to be checked (or None),
of this check once checked). Plain tuples: ten thousand of them cross a pipe. keep: NEW findings
to put in the cache, KNOWN taken from it by the page's stat, or NO (they depend on the clock, or
the page could not be read).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

from .. import remembered
from ..flows import FlowRegistry, lenient_validator
from ..settings import for_file
from .files import decode_page, internal_error

Looked = tuple
NEW, KNOWN, NO = 1, 2, 0

# (settings, secrets, cache, known, flows) of the run: set by the process that runs it
# (``pipeline.Run``) or, in an early standby, once the settings came; inherited by every fork
RUN: tuple | None = None


def check(looked: Looked) -> Looked:
    """The looked-at page checked: its findings in place of None (a checker failure is one
    finding, never the end of the run)."""
    from .. import engine  # imported by ``load_checking`` first: a warm run with no page to check never does

    index, file, shown, _, _, _, content_hash, stat, data, given = looked
    settings, secrets, _, _, flows = RUN  # type: ignore[misc]
    try:
        page = decode_page(data, shown, file)  # text: looked at already
        with remembered.taking(given) as notes:
            report = engine.check_page(page, for_file(settings, file), flows, secrets, fixes=False)  # a report: no token signed
    except Exception as exc:  # noqa: BLE001 - one page's bug must not stop the run, nor print a traceback
        return index, file, shown, [internal_error(shown, exc)], set(), NO, content_hash, stat, None, None
    keep = NEW if report.cacheable else NO
    # what the page's directives suppressed travels (and is cached) with its findings, marked
    return (index, file, shown, report.findings + report.suppressed, report.unsigned_roles, keep, content_hash, stat,
            None, notes)


def check_batch(batch: list[Looked]) -> list[Looked]:
    return [check(looked) for looked in batch]


def load_checking(flows: FlowRegistry | None, libraries: bool = True) -> None:
    """Import and build what checking a page needs, so that processes forked after inherit it.

    The cyclic garbage collector is off meanwhile (imports make no garbage worth a collection),
    and what was built is then frozen: never scanned again by a collection, so a forked checker
    does not write to (and copy) every page of memory it inherited. ``flows`` None: the modules
    only (a standby forked before the flows were known); again with the flows, their parts.
    ``libraries`` False: not PyJWT and jsonschema (see ``library_loads``)."""
    with _frozen_after():
        _import_checking(flows)
    if libraries:
        for load in library_loads(flows):  # each frozen after it, as the above
            load()


def library_loads(flows: FlowRegistry | None) -> list:
    """The imports a check needs only for a sample its page's notes do not answer for (a token to
    read, an example to validate: ``remembered``), one step each: PyJWT; jsonschema with the
    flows' validators. A checker on standby takes them one by one while no page waits for it."""

    def jwt() -> None:
        import jwt  # noqa: F401

    def referencing() -> None:  # jsonschema's registries (and attrs)
        import referencing.jsonschema  # noqa: F401

    def jsonschema() -> None:
        from jsonschema.exceptions import best_match  # noqa: F401

    def validators() -> None:
        lenient_validator()
        if flows is not None:
            flows.registry  # noqa: B018 - built here, inherited by the checkers

    def frozen_after(load):
        def step() -> None:
            with _frozen_after():
                load()
        return step

    # small steps: a page that comes meanwhile waits for one of them at most (some 20 ms)
    return [frozen_after(load) for load in (jwt, referencing, jsonschema, validators)]


@contextmanager
def _frozen_after() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _import_checking(flows: FlowRegistry | None) -> None:
    from .. import attribution, engine, pairing, rules, signing, suppressions  # noqa: F401
    from ..extract import extract, js  # noqa: F401
    from ..extract.markdown import markdown_parser
    from ..extract.treesitter import parser
    from ..tokens import decode  # noqa: F401

    markdown_parser()
    for language in ("json", "javascript", "typescript", "tsx", "python"):
        parser(language)
    if flows is None:
        return
    flows.vocabulary  # noqa: B018 - the evidence vocabulary, stemmed (the stemmer imported here)
