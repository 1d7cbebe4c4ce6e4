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
forked on *standby* at the start imports meanwhile and checks the first pages found changed. A
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

from .. import engine
from ..flows import FlowRegistry, lenient_validator, load_flows
from ..model import Finding
from ..page import place_of
from ..settings import ConfigError, Secret, Settings, for_file, secrets_from_env
from .files import decode_page, internal_error, read_bytes
from .walk import Unlistable, discover_entries, page_stat
from .forking import become_child, fork_is_safe, held_signals
from .prefilter import may_hold_samples
from .stamps import stamp_of

# (index, file, shown, findings or None when the page is still to be checked, roles without a
# secret, keep, content hash ("" for a page with nothing to check), stamp (``stamps.stamp_of``) as
# read or None, the page's bytes when it is to be checked). Plain tuples: ten thousand of them
# cross a pipe. keep: NEW findings to put in the cache, KNOWN taken from it by the page's stat,
# or NO (they depend on the clock, or the page could not be read).
Looked = tuple
NEW, KNOWN, NO = 1, 2, 0

LOOK_BATCH = 64  # pages per message from the looker
CHECK_BATCH = 4  # pages to check per task (a page to check costs a hundred times a page to look at)
FORK_AT = 16  # pages to check before the checkers are forked (fewer are checked in the main process)
CHECKER_NICENESS = 5  # how much less the pool's checkers weigh than the looker (see ``_checker_start``)
PIPE_BYTES = 1 << 20  # the looker need not wait while the main process imports (nor the main process for the standby checker)


_RUN: tuple | None = None  # (settings, secrets, cache, known, flows) of the run, inherited by forks
_EARLY: "_Standby | None" = None  # a checker forked before the settings were read (``standby_early``)


def standby_early() -> None:
    """Fork the checker on standby now, at the start of a command that is likely a warm check
    (``cli`` knows from its arguments and a stat: a cache file is there), before the settings are
    read: it imports the checking machinery meanwhile, which is what a warm run with a changed page
    waits for. The run adopts it (``Run``) and sends it the settings, from which it reads the
    secrets itself, from the environment it inherited (as the main process does: nothing secret
    crosses a pipe); a run that does not (a usage or configuration error, no cache after all, its
    secrets not the ones that environment gives: ``_Standby.reads``) ends it (``drop_standby_early``)."""
    global _EARLY

    if _EARLY is None and (os.cpu_count() or 1) > 1 and fork_is_safe():
        _EARLY = _Standby(early=True)


def drop_standby_early() -> None:
    """The early standby no run adopted, killed (its import unfinished)."""
    global _EARLY

    early, _EARLY = _EARLY, None
    if early is not None:
        early.close()


class Run:
    """A run's pages through the pipeline. Made before the cache is loaded, so that a checker on
    standby (``likely_warm``: there is a cache file to load) starts importing as early as it can;
    the flows are loaded here, once, before any fork: inherited (a bad flows folder stops here)."""

    def __init__(self, settings: Settings, secrets: dict[str, Secret], jobs: int | None, likely_warm: bool):
        global _RUN, _EARLY

        _RUN = (settings, secrets, None, None, load_flows(settings.flows_dirs))
        self.jobs = jobs or os.cpu_count() or 1
        self.parallel = self.jobs > 1 and fork_is_safe()
        early, _EARLY = _EARLY, None
        if (early is not None and self.parallel and likely_warm and early.reads(settings, secrets)
                and early.adopt(settings)):
            self.standby: _Standby | None = early
        else:
            if early is not None:
                early.close()
            self.standby = _Standby() if self.parallel and likely_warm else None

    def pages(self, paths: Iterable[str], cache, known) -> Iterator[Looked]:
        """Every page under ``paths``, looked at and, if it can hold a sample, checked; in no
        particular order (each carries its index). ``known`` None (no page in the cache) makes
        the run cold, whatever was likely."""
        global _RUN

        settings, secrets, _, _, flows = _RUN  # type: ignore[misc]
        _RUN = (settings, secrets, cache, known, flows)
        standby, self.standby = self.standby, None
        if known is None and standby is not None:
            standby.close()  # cold after all: the looker and the pool, as for any cold run
            standby = None
        if self.parallel:
            yield from _Parallel(self.jobs).run(list(paths), standby)
        else:
            for looked in _looks(paths, 0):
                yield looked if looked[3] is not None else _check(looked)

    def close(self) -> None:
        """The standby checker of a run whose pages were never asked for, killed."""
        if self.standby is not None:
            self.standby.close()
            self.standby = None


def _looks(paths: Iterable[str], start: int = 0) -> Iterator[Looked]:
    """Look at every page from the ``start``-th on (the ones before are found, not read)."""
    for index, (file, shown, entry) in enumerate(discover_entries(paths, _RUN[0])):  # type: ignore[index]
        if index < start:
            continue
        if isinstance(entry, Unlistable):  # a folder whose pages cannot be found: an error, never cached
            yield index, file, shown, [entry.finding(shown)], set(), NO, None, None, None
        else:
            yield _look(index, file, shown, entry)


def _look(index: int, file: str, shown: str, entry: os.DirEntry | None) -> Looked:
    settings, _, cache, known, flows = _RUN  # type: ignore[misc]
    if known is not None:
        try:
            stamp = stamp_of(page_stat(file, entry))
            hit = known(file, stamp, shown)
        except OSError:
            hit = None  # the read says why
        if hit is not None:
            return index, file, shown, hit[0], hit[1], KNOWN, None, stamp, None
    read = read_bytes(file, shown, settings)
    if isinstance(read, Finding):
        return index, file, shown, [read], set(), NO, None, None, None
    data, stat = read
    if not data.isascii() or b"\x00" in data:  # ASCII without NUL is text as it stands
        page = decode_page(data, shown, file)  # a page that is not text is said, even with no sample
        if isinstance(page, Finding):
            return index, file, shown, [page], set(), NO, None, stat, None
    if not may_hold_samples(data, flows):
        return index, file, shown, [], set(), NEW, "", stat, None
    # the findings of a page depend on its place (evidence of its flows) as on its bytes: a page
    # moved to another folder, or a copy of it there, is not answered for by the cache
    where = place_of(os.path.abspath(file)).encode("utf-8", "surrogateescape")  # as ``Page.where``
    own = for_file(settings, file)
    if own is not settings:  # and on the per-path overrides it matches: two pages of the same bytes
        where += repr((own.version, sorted(own.disable))).encode()  # and place may be checked differently
    content_hash = cache.hash(where + b"\0" + data) if cache else None
    hit = cache.get(content_hash, shown) if cache else None
    if hit is not None:
        return index, file, shown, hit[0], hit[1], NEW, content_hash, stat, None
    return index, file, shown, None, set(), NEW, content_hash, stat, data


def _check(looked: Looked) -> Looked:
    index, file, shown, _, _, _, content_hash, stat, data = looked
    settings, secrets, _, _, flows = _RUN  # type: ignore[misc]
    try:
        page = decode_page(data, shown, file)  # text: looked at already
        report = engine.check_page(page, for_file(settings, file), flows, secrets)
    except Exception as exc:  # noqa: BLE001 - one page's bug must not stop the run, nor print a traceback
        return index, file, shown, [internal_error(shown, exc)], set(), NO, content_hash, stat, None
    keep = NEW if report.cacheable else NO
    # what the page's directives suppressed travels (and is cached) with its findings, marked
    return index, file, shown, report.findings + report.suppressed, report.unsigned_roles, keep, content_hash, stat, None


def _check_batch(batch: list[Looked]) -> list[Looked]:
    return [_check(looked) for looked in batch]


def load_checking(flows: FlowRegistry | None) -> None:
    """Import and build what checking a page needs, so that processes forked after inherit it.

    The cyclic garbage collector is off meanwhile (imports make no garbage worth a collection),
    and what was built is then frozen: never scanned again by a collection, so a forked checker
    does not write to (and copy) every page of memory it inherited. ``flows`` None: the modules
    only (a standby forked before the flows were known); again with the flows, their parts."""
    gc.disable()
    try:
        _import_checking(flows)
    finally:
        gc.freeze()
        gc.enable()


def _import_checking(flows: FlowRegistry | None) -> None:
    from .. import attribution, pairing, rules, signing  # noqa: F401
    from ..extract import extract  # noqa: F401
    from ..extract.markdown import markdown_parser
    from ..extract.treesitter import parser
    from ..tokens import decode  # noqa: F401

    import jwt  # noqa: F401
    from jsonschema.exceptions import best_match  # noqa: F401

    markdown_parser()
    for language in ("json", "javascript", "typescript", "tsx", "python"):
        parser(language)
    lenient_validator()
    if flows is None:
        return
    flows.vocabulary  # noqa: B018 - the evidence vocabulary, stemmed (the stemmer imported here)
    lenient_validator()
    flows.registry  # noqa: B018 - built here, inherited by the checkers


class _Parallel:
    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = None
        self.futures: list = []  # (future or None, batch)

    def run(self, paths: list[str], standby: _Standby | None) -> Iterator[Looked]:
        received = 0
        # a warm run looks in process (mostly a stat and a look-up per page, less than a fork
        # costs), while a checker on standby imports the checking machinery on another core
        warm = _RUN[3] is not None  # type: ignore[index]
        # a few files named (as pre-commit passes them) are looked at here too: fewer than a fork costs
        few_files = len(paths) < LOOK_BATCH and all(os.path.isfile(path) for path in paths)
        looker = _LookHere(paths) if warm or few_files else _Looker(paths)
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
                    load_checking(_RUN[4])  # type: ignore[index]
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

            load_checking(_RUN[4])  # type: ignore[index]
            # the checkers are forked on the first submit, with SIGINT and SIGTERM held: each
            # dies with this process (``forking.become_child``), however this one ends
            with held_signals():
                self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                                initializer=_checker_start, initargs=(os.getpid(),))
                self._submit_parts(batch)
            return
        self._submit_parts(batch)

    def _submit_parts(self, batch: list[Looked]) -> None:
        for start in range(0, len(batch), CHECK_BATCH):
            part = batch[start : start + CHECK_BATCH]
            try:
                future = self.pool.submit(_check_batch, part)  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001 - the pool broke (a checker died): checked here
                future = None
            self.futures.append((future, part))


def _checker_start(parent: int) -> None:
    """A checker of the pool: it dies with its parent (``forking.become_child``), and yields the
    processor to the looker, whose pages it waits for (the looker's work is what every checker
    waits on; the checkers' own work fills what is left of the cores)."""
    become_child(parent)
    try:
        os.nice(CHECKER_NICENESS)
    except (AttributeError, OSError):
        pass


def _batch_results(future, batch: list[Looked]) -> list[Looked]:
    if future is not None:
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the checker died (killed, out of memory): check here
            pass
    return _check_batch(batch)


def _pipe() -> tuple[int, int]:
    """A pipe of ``PIPE_BYTES`` where the system allows (else a smaller one: the writer may wait
    for the reader now and then)."""
    read, write = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass
    return read, write


def _revealed(secrets: dict[str, Secret]) -> dict[str, tuple[str, str]]:
    """role -> (value, the variable it came from): two runs' secrets compared, in this process."""
    return {role: (secret.reveal(), secret.source) for role, secret in secrets.items()}


class _Standby:
    """A checker forked at the start of a warm run, before anything heavy is imported: it imports
    the checking machinery while the main process looks at the pages, on another core, and checks
    the first ``FORK_AT`` pages that changed as they are found. A warm run mostly finds a page or
    two to check: their check then costs no import after the walk. When no page changed it is
    killed, its import unfinished. Pages go one way and results come back only after the end
    (an empty tuple), so neither side waits for the other with a full pipe. If it dies, its pages
    are checked in the main process."""

    def __init__(self, early: bool = False):
        """``early``: forked before the run's settings are known (``standby_early``): its first
        message is the settings. The environment it inherits is kept here too (``reads``)."""
        self.sent: list[Looked] = []
        self.environ = dict(os.environ) if early else None  # in this process only: never sent
        self.pid = 0
        read_pages, write_pages = _pipe()
        read_results, write_results = os.pipe()
        parent = os.getpid()
        try:
            with held_signals():  # until the checker is ready to die with this process
                self.pid = os.fork()
                if self.pid == 0:  # the checker: never leaves this block (nor lets the signals in early)
                    _Standby._check_and_exit(parent, (write_pages, read_results), read_pages, write_results, early)
                os.close(read_pages)  # whole before a signal held meanwhile comes in
                os.close(write_results)
                self.pages = os.fdopen(write_pages, "wb")
                self.back = os.fdopen(read_results, "rb")
        except BaseException:  # that signal (Ctrl-C, SIGTERM): the checker ended, not left waiting
            if self.pid:
                self.close()
            raise

    def reads(self, settings: Settings, secrets: dict[str, Secret]) -> bool:
        """Does an early standby, sent ``settings``, read the run's ``secrets`` from the environment
        it inherited? Told here, from the copy of it kept at the fork (nothing secret is sent): a run
        given an environment of its own (``check_paths``' ``environ``), or one that changed since,
        must not have its pages checked with other secrets (nor their findings cached as its own)."""
        if self.environ is None:
            return False
        try:
            inherited = secrets_from_env(settings, self.environ)
        except ConfigError:
            return False
        return _revealed(inherited) == _revealed(secrets)

    def adopt(self, settings: Settings) -> bool:
        """An early standby given the run's settings (no secret is in them); False, and it ended, if it
        died or they cannot be sent (settings made in Python may hold what pickle refuses: a
        ``MappingProxyType``): the run then forks a checker of its own, which inherits them."""
        try:
            pickle.dump(settings, self.pages, pickle.HIGHEST_PROTOCOL)
            self.pages.flush()
        except Exception:  # noqa: BLE001 - OSError (it died), PicklingError, TypeError...
            self.close()
            return False
        return True

    @staticmethod
    def _check_and_exit(parent: int, unused: tuple[int, int], read_pages: int, write_results: int,
                        early: bool) -> None:
        global _RUN

        code = 1
        try:
            _checker_start(parent)  # it yields the processor to the main process's looking too
            for fd in unused:
                os.close(fd)
            checked = []
            with os.fdopen(read_pages, "rb") as pages:
                if early:  # the machinery first, then the settings it was forked too early to know
                    load_checking(None)
                    settings = pickle.load(pages)
                    _RUN = (settings, secrets_from_env(settings), None, None, load_flows(settings.flows_dirs))
                load_checking(_RUN[4])  # type: ignore[index]
                while True:
                    looked = pickle.load(pages)
                    if not looked:  # the end
                        break
                    checked.append(_check(looked))
            with os.fdopen(write_results, "wb") as out:
                pickle.dump(checked, out, pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # noqa: BLE001 - the main process checks its pages instead
            pass
        finally:
            os._exit(code)

    def takes(self) -> bool:
        return self.pid != 0 and len(self.sent) < FORK_AT

    def send(self, looked: Looked) -> None:
        try:
            pickle.dump(looked, self.pages, pickle.HIGHEST_PROTOCOL)
            self.pages.flush()
        except OSError:  # it died: its pages are checked here (``results``)
            self._stop()
        self.sent.append(looked)

    def results(self) -> Iterator[Looked]:
        """What it checked; the pages it did not, checked here."""
        checked: list[Looked] = []
        if self.sent and self.pid:
            try:
                pickle.dump((), self.pages, pickle.HIGHEST_PROTOCOL)
                self.pages.close()
                checked = pickle.load(self.back)
            except Exception:  # noqa: BLE001 - EOF or a torn message: it died
                checked = []
        done = {looked[0] for looked in checked}
        yield from checked
        for looked in self.sent:
            if looked[0] not in done:
                yield _check(looked)

    def _stop(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = 0

    def close(self) -> None:
        """Killed unless it has sent its results (so with no page to check, it never finishes its import)."""
        for stream in (self.pages, self.back):
            try:
                stream.close()
            except OSError:
                pass
        self._stop()


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
        read, write = _pipe()
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
