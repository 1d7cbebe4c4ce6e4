"""How a run's pages get checked, in two stages, on every core.

Looking (light): each page is found, read, looked at (text? can it hold a sample?), hashed if it
can, and its findings taken from the cache if they are there. Checking (heavy): a page that can
hold a sample and is not in the cache is parsed and checked.

On a machine with more than one core, a *looker* process (a fork made before anything heavy is
imported) walks the tree and looks at every page, and streams what it saw back through a pipe.
Meanwhile the main process imports the checking machinery (markdown-it, tree-sitter, PyJWT,
jsonschema) once, on the first page to check, then forks the *checkers*, which inherit it (and
the secrets and flow schemas: nothing secret is ever pickled). The import overlaps the looking and
is paid once, not once per worker. A warm run (a cache to look pages up in) is the other way
round: the main process looks (a stat and a look-up per page cost less than a fork), and a checker
forked on *standby* at the start (``standby``) imports meanwhile and checks the first pages found
changed. What checking a page is, in whichever process, is ``checker``'s. A
looker or checker that dies (killed, out of memory) costs
only time: its pages are looked at or checked again in the main process. With one core,
``--jobs 1``, no ``fork``, or other threads running (a fork would copy their locks, not them),
both stages run in the main process.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from typing import Iterable, Iterator

from ..flows import load_flows
from ..model import Finding
from ..page import place_of
from ..settings import Secret, Settings, for_file
from . import checker
from .checker import KNOWN, NEW, NO, Looked, check, check_batch, load_checking
from .files import decode_page, read_bytes
from .forking import become_child, checker_start, fork_is_safe, held_signals, pipe
from .prefilter import may_hold_samples
from .stamps import stamp_of
from .standby import FORK_AT, Standby, forked, take_early
from .walk import Unlistable, discover_entries, page_stat

LOOK_BATCH = 64  # pages per message from the looker
CHECK_BATCH = 4  # pages to check per task (a page to check costs a hundred times a page to look at)


class Run:
    """A run's pages through the pipeline. Made before the cache is loaded, so that a checker on
    standby (``likely_warm``: there is a cache file to load) starts importing as early as it can;
    the flows are loaded here, once, before any fork: inherited (a bad flows folder stops here)."""

    def __init__(self, settings: Settings, secrets: dict[str, Secret], jobs: int | None, likely_warm: bool):
        checker.RUN = (settings, secrets, None, None, load_flows(settings.flows_dirs))
        self.jobs = jobs or os.cpu_count() or 1
        self.parallel = self.jobs > 1 and fork_is_safe()
        early = take_early()
        if (early is not None and self.parallel and likely_warm and early.reads(settings, secrets)
                and early.adopt(settings)):
            self.standby: Standby | None = early
        else:
            if early is not None:
                early.close()
            self.standby = forked() if self.parallel and likely_warm else None

    def pages(self, paths: Iterable[str], cache, known) -> Iterator[Looked]:
        """Every page under ``paths``, looked at and, if it can hold a sample, checked; in no
        particular order (each carries its index). ``known`` None (no page in the cache) makes
        the run cold, whatever was likely."""
        settings, secrets, _, _, flows = checker.RUN  # type: ignore[misc]
        checker.RUN = (settings, secrets, cache, known, flows)
        standby, self.standby = self.standby, None
        if known is None and standby is not None:
            standby.close()  # cold after all: the looker and the pool, as for any cold run
            standby = None
        if self.parallel:
            yield from _Parallel(self.jobs).run(list(paths), standby)
        else:
            for looked in _looks(paths, 0):
                yield looked if looked[3] is not None else check(looked)

    def close(self) -> None:
        """The standby checker of a run whose pages were never asked for, killed."""
        if self.standby is not None:
            self.standby.close()
            self.standby = None


def _looks(paths: Iterable[str], start: int = 0) -> Iterator[Looked]:
    """Look at every page from the ``start``-th on (the ones before are found, not read)."""
    known = checker.RUN[3]  # type: ignore[index]
    for index, (file, shown, entry) in enumerate(discover_entries(paths, checker.RUN[0])):  # type: ignore[index]
        if index < start:
            continue
        if isinstance(entry, Unlistable):  # a folder whose pages cannot be found: an error, never cached
            yield index, file, shown, [entry.finding(shown)], set(), NO, None, None, None, None
            continue
        if known is not None:  # a warm run: most pages are answered for by their stamp (ten thousand: no call more)
            try:
                stamp = stamp_of(page_stat(file, entry))
                hit = known(file, stamp, shown)
            except OSError:
                hit = None  # the read says why
            if hit is not None:
                yield index, file, shown, hit[0], hit[1], KNOWN, None, stamp, None, None
                continue
        yield _look(index, file, shown)


def _look(index: int, file: str, shown: str) -> Looked:
    """A page the cache does not answer for by its stamp: read, looked at, hashed."""
    settings, _, cache, _, flows = checker.RUN  # type: ignore[misc]
    read = read_bytes(file, shown, settings)
    if isinstance(read, Finding):
        return index, file, shown, [read], set(), NO, None, None, None, None
    data, stat = read
    if not data.isascii() or b"\x00" in data:  # ASCII without NUL is text as it stands
        page = decode_page(data, shown, file)  # a page that is not text is said, even with no sample
        if isinstance(page, Finding):
            return index, file, shown, [page], set(), NO, None, stat, None, None
    if not may_hold_samples(data, flows):
        return index, file, shown, [], set(), NEW, "", stat, None, None
    # the findings of a page depend on its place (evidence of its flows) as on its bytes: a page
    # moved to another folder, or a copy of it there, is not answered for by the cache
    where = place_of(os.path.abspath(file)).encode("utf-8", "surrogateescape")  # as ``Page.where``
    own = for_file(settings, file)
    if own is not settings:  # and on the per-path overrides it matches: two pages of the same bytes
        where += repr((own.version, sorted(own.disable))).encode()  # and place may be checked differently
    content_hash = cache.hash(where + b"\0" + data) if cache else None
    hit = cache.get(content_hash, shown) if cache else None
    if hit is not None:
        return index, file, shown, hit[0], hit[1], NEW, content_hash, stat, None, None
    # the notes of the page's previous check: what it worked out of the samples still there is not again
    return index, file, shown, None, set(), NEW, content_hash, stat, data, cache.notes_of(file) if cache else None


class _Parallel:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = None
        self.futures: list = []  # (future or None, batch)
        self.broken = False  # the pool took no task (a checker died, or none could be forked): the rest checked here

    def run(self, paths: list[str], standby: Standby | None) -> Iterator[Looked]:
        received = 0
        # a warm run looks in process (mostly a stat and a look-up per page, less than a fork
        # costs), while a checker on standby imports the checking machinery on another core
        warm = checker.RUN[3] is not None  # type: ignore[index]
        # a few files named (as pre-commit passes them) are looked at here too: fewer than a fork costs
        few_files = len(paths) < LOOK_BATCH and all(os.path.isfile(path) for path in paths)
        looker = _LookHere(paths) if warm or few_files else _looker(paths)
        try:
            todo: list[Looked] = []
            for batch in looker.batches():
                received += len(batch)
                for looked in batch:
                    if looked[3] is not None:
                        yield looked
                        continue
                    if standby is not None and standby.takes():
                        standby.send(looked)
                        continue
                    todo.append(looked)
                    if self.pool is None and len(todo) == 1:
                        # the first page to check: whether the checkers are forked (at FORK_AT) or
                        # the pages checked here, the checking machinery is needed; imported now,
                        # while the looker goes on, not after it (a core idle meanwhile)
                        load_checking(checker.RUN[4])  # type: ignore[index]
                    if len(todo) >= (CHECK_BATCH if self.pool else FORK_AT):
                        self._submit(todo)
                        todo = []
            if not looker.finished:  # it died: look at the rest here (walking the whole tree again)
                for looked in _looks(paths, received):
                    if looked[3] is not None:
                        yield looked
                    else:
                        todo.append(looked)
            if self.pool is not None:
                self._submit(todo)
            else:
                if todo:
                    load_checking(checker.RUN[4])  # type: ignore[index]
                self.futures.append((None, todo))  # too few to fork for: checked here
            if standby is not None:
                yield from standby.results()
            for future, batch in self.futures:
                yield from _batch_results(future, batch)
        finally:
            looker.close()
            if standby is not None:
                standby.close()
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, batch: list[Looked]) -> None:
        if not batch:
            return
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            load_checking(checker.RUN[4])  # type: ignore[index]
            # the checkers are forked on the first submit, with SIGINT and SIGTERM held: each
            # dies with this process (``forking.become_child``), however this one ends
            with held_signals():
                self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                                initializer=checker_start, initargs=(os.getpid(),))
                self._submit_parts(batch)
            return
        self._submit_parts(batch)

    def _submit_parts(self, batch: list[Looked]) -> None:
        for start in range(0, len(batch), CHECK_BATCH):
            part = batch[start : start + CHECK_BATCH]
            future = None
            if not self.broken:  # a pool that could not fork its checkers would try again on every submit
                try:
                    future = self.pool.submit(check_batch, part)  # type: ignore[union-attr]
                except Exception:  # noqa: BLE001 - the pool broke (a checker died, a fork failed): checked here
                    self.broken = True
            self.futures.append((future, part))


def _batch_results(future, batch: list[Looked]) -> list[Looked]:
    if future is not None:
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the checker died (killed, out of memory): check here
            pass
    return check_batch(batch)


def _looker(paths: list[str]) -> "_Looker | _LookHere":
    """A looker process; the pages looked at here where the system forks no process now (a
    process limit reached: EAGAIN; no file descriptor left for its pipe: EMFILE)."""
    try:
        return _Looker(paths)
    except OSError:
        return _LookHere(paths)


class _LookHere:
    """The pages looked at in the main process, in batches as a looker sends them."""

    finished = True

    def __init__(self, paths: list[str]):
        self.paths = paths

    def batches(self) -> Iterator[list[Looked]]:
        batch: list[Looked] = []
        for looked in _looks(self.paths, 0):
            batch.append(looked)
            if len(batch) >= LOOK_BATCH:
                yield batch
                batch = []
        yield batch

    def close(self) -> None:
        pass


class _Looker:
    """A forked process that looks at every page and sends batches of what it saw, then an empty
    tuple: the end."""

    def __init__(self, paths: list[str]):
        self.finished = False
        self.pid = 0
        read, write = pipe()
        parent = os.getpid()
        try:
            with held_signals():  # until the looker is ready to die with this process
                self.pid = os.fork()
                if self.pid == 0:  # the looker: never leaves this block (nor lets the signals in early)
                    _Looker._look_and_exit(paths, parent, read, write)
                os.close(write)  # whole before a signal held meanwhile comes in
                self.stream = os.fdopen(read, "rb")
        except BaseException:  # that signal: the looker ended, not left blocked on a pipe no one reads
            if self.pid:
                self.close()
            else:  # the fork failed (OSError): its pipe goes with it
                for fd in (read, write):
                    os.close(fd)
            raise

    @staticmethod
    def _look_and_exit(paths: list[str], parent: int, read: int, write: int) -> None:
        code = 1
        try:
            become_child(parent)
            gc.freeze()  # what it inherited is never collected: never scanned, nor copied by the scan
            os.close(read)
            with os.fdopen(write, "wb") as out:
                batch: list[Looked] = []
                for looked in _looks(paths, 0):
                    batch.append(looked)
                    if len(batch) >= LOOK_BATCH:
                        pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
                        out.flush()
                        batch = []
                pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
                pickle.dump((), out, pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # noqa: BLE001 - said by the main process, which looks again
            pass
        finally:
            os._exit(code)

    def batches(self) -> Iterator[list[Looked]]:
        while True:
            try:
                batch = pickle.load(self.stream)
            except Exception:  # noqa: BLE001 - EOF or a torn message: the looker died
                return
            if isinstance(batch, tuple):  # the end
                self.finished = True
                return
            yield batch

    def close(self) -> None:
        self.stream.close()
        if self.pid:
            try:
                if not self.finished:
                    os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0
