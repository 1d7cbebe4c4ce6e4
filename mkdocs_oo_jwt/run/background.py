"""Pages checked in a background process while MkDocs renders: the plugin's work on another core.

The checker is a fork of the build, so settings, flows and secrets are inherited, never pickled.
It dies with the build, however the build ends (SIGTERM, SIGKILL, Ctrl-C: ``forking.become_child``).
It reads each source page, checks it with the engine and sends back what it found; the plugin
collects each page's result where it needs it (in ``on_page_markdown`` when it regenerates tokens,
at the end of the build when it only verifies). Where a fork is not safe or not useful (no
``os.fork``, one core, other threads running as under ``mkdocs serve``, few pages), the plugin
checks in its own process with the same ``check_doc``.
"""

from __future__ import annotations

import hashlib
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..engine import PageReport, check_page
from ..flows import FlowRegistry
from ..model import Finding
from ..page import Page
from ..settings import Secret, Settings, for_file
from .files import internal_error, read_page
from .forking import become_child, fork_is_safe, held_signals
from .prefilter import may_hold_samples

MIN_PAGES = 8  # fewer pages are checked in process: a fork would cost more than it saves
BATCH = 8  # pages per task sent to the checker


@dataclass
class Checked:
    """One page's result: a reason it cannot be read, the checker's failure, or its report."""

    digest: str | None = None  # of the page's text as checked (None: it could not be read)
    problem: Finding | None = None
    report: PageReport | None = None  # None: nothing on the page can be a sample
    # a checker bug: its internal-error finding and its traceback's frames, never the exception's
    # text (it may quote the page or a secret)
    failure: tuple[Finding, str] | None = None


def digest(doc: Page) -> str:
    return hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest()


def check_doc(doc: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret],
              file: str | None = None) -> Checked:
    """One page's result, with the settings of its ``file`` (per-path overrides; none without a file)."""
    settings = for_file(settings, file)
    checked = Checked(digest(doc))
    if not may_hold_samples(doc.encode(), flows):
        return checked  # no JWT, token, placeholder, json fence or endpoint: nothing to check
    try:
        checked.report = check_page(doc, settings, flows, secrets)
    except Exception as exc:  # noqa: BLE001 - reported by the plugin as a finding, the frames at debug
        checked.failure = (internal_error(doc.path, exc), "".join(traceback.format_tb(exc.__traceback__)))
    return checked


_BUILD: tuple | None = None  # (settings, flows, secrets) of the build, inherited by the fork


def _check_sources(items: list[tuple[str, str]]) -> list[Checked]:
    settings, flows, secrets = _BUILD  # type: ignore[misc]
    out = []
    for file, shown in items:
        doc = read_page(Path(file), shown, settings)
        out.append(Checked(problem=doc) if isinstance(doc, Finding) else check_doc(doc, settings, flows, secrets, file))
    return out


def usable(pages: int) -> bool:
    """Whether ``pages`` are worth a checker process, and this process may fork one."""
    return pages >= MIN_PAGES and (os.cpu_count() or 1) > 1 and fork_is_safe()


class Background:
    """The pages ``(file, shown)`` submitted in order to one forked checker process."""

    def __init__(self, items: list[tuple[str, str]], settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]):
        global _BUILD
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _BUILD = (settings, flows, secrets)
        self._where: dict[str, tuple] = {}
        self._files = dict((shown, file) for file, shown in items)
        # forked on the first submit, with SIGINT and SIGTERM held until it is ready to die with
        # the build (``forking.become_child``): a build ended by SIGTERM or SIGKILL leaves no checker
        with held_signals():
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                             initializer=become_child, initargs=(os.getpid(),))
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                future = self._pool.submit(_check_sources, batch)
                for i, (_, shown) in enumerate(batch):
                    self._where[shown] = (future, i)

    def __contains__(self, shown: str) -> bool:
        return shown in self._where

    def result(self, shown: str) -> Checked:
        """The page's result; checked in this process if the checker process could not give it
        (it died, or was killed: nothing is lost, it only takes longer)."""
        future, i = self._where[shown]
        try:
            return future.result()[i]
        except Exception:  # noqa: BLE001 - BrokenProcessPool and the like: the page is checked here
            settings, flows, secrets = _BUILD  # type: ignore[misc]
            doc = read_page(Path(self._files[shown]), shown, settings)
            return Checked(problem=doc) if isinstance(doc, Finding) else check_doc(doc, settings, flows, secrets,
                                                                                  self._files[shown])

    def close(self) -> None:
        global _BUILD

        self._pool.shutdown(wait=True, cancel_futures=True)
        _BUILD = None
