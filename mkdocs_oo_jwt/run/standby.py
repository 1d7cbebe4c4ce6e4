"""The checker on standby: a process forked at the start of a run that is likely warm (a cache
to look pages up in), which imports the checking machinery while the main process looks at the
pages, on another core, and checks the first ``FORK_AT`` pages found changed as they come. A warm
run mostly finds a page or two to check: their check then costs no import after the walk. When no
page changed it is killed, its import unfinished.

The command forks it first thing (``standby_early``), before its arguments are parsed or anything
heavy is imported: what a warm run with a changed page waits for is that import, so the earlier
it starts the better, and a process with little memory forks fast and shares more with its child.
Nothing but the standard library and ``forking`` is imported here; the child imports the rest.
The run adopts it (``take_early``, ``Standby.adopt``) and sends it the settings, from which it
reads the secrets itself, from the environment it inherited (as the main process does: nothing
secret crosses a pipe); a run that does not (a usage or configuration error, no cache after all,
its secrets not the ones that environment gives: ``Standby.reads``) ends it (``drop_standby_early``).

It imports PyJWT and jsonschema last, one at a time and only while no page waits for it
(``checker.library_loads``): a page edited outside its samples is checked from the notes of its
previous check (``remembered``) and needs neither, so it is checked as soon as it comes.

Pages go one way, each message framed by its length (read unbuffered: a ``select`` on the pipe
tells whether a page waits), and results come back only after the end (an empty tuple), so neither
side waits for the other with a full pipe. If it dies, its pages are checked in the main process.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
from typing import Iterator

from .forking import become_child, fork_is_safe, held_signals, pipe, yield_processor

FORK_AT = 16  # pages to check before a run forks its checkers (fewer are checked by the standby or in the main process)

_EARLY: "Standby | None" = None  # forked before the settings were read (``standby_early``)


def standby_early() -> None:
    """Fork the checker on standby now, at the start of a command that is likely a warm check
    (``cli`` knows from its arguments and a stat: a cache file is there)."""
    global _EARLY

    if _EARLY is None and (os.cpu_count() or 1) > 1 and fork_is_safe():
        _EARLY = forked(early=True)


def forked(early: bool = False) -> "Standby | None":
    """A checker on standby, or None where the system forks no process now (a process limit
    reached: EAGAIN; no file descriptor left for its pipes: EMFILE; ENOMEM): it is only a head
    start, the run checks its pages without it."""
    try:
        return Standby(early)
    except OSError:
        return None


def take_early() -> "Standby | None":
    """The early standby, now the caller's to adopt or close (None if there is none)."""
    global _EARLY

    early, _EARLY = _EARLY, None
    return early


def drop_standby_early() -> None:
    """The early standby no run adopted, killed (its import unfinished)."""
    early = take_early()
    if early is not None:
        early.close()


class Standby:
    def __init__(self, early: bool = False):
        """``early``: forked before the run's settings are known (``standby_early``): its first
        message is the settings. The environment it inherits is kept here too (``reads``)."""
        self.sent: list[tuple] = []
        self.environ = dict(os.environ) if early else None  # in this process only: never sent
        self.pid = 0
        read_pages, write_pages = pipe()
        try:
            read_results, write_results = os.pipe()
        except OSError:
            _close_all((read_pages, write_pages))
            raise
        parent = os.getpid()
        try:
            with held_signals():  # until the checker is ready to die with this process
                self.pid = os.fork()
                if self.pid == 0:  # the checker: never leaves this block (nor lets the signals in early)
                    Standby._check_and_exit(parent, (write_pages, read_results), read_pages, write_results, early)
                os.close(read_pages)  # whole before a signal held meanwhile comes in
                os.close(write_results)
                self.pages = os.fdopen(write_pages, "wb")
                self.back = os.fdopen(read_results, "rb")
        except BaseException:  # that signal (Ctrl-C, SIGTERM): the checker ended, not left waiting
            if self.pid:
                self.close()
            else:  # the fork failed (OSError): its pipes go with it
                _close_all((read_pages, write_pages, read_results, write_results))
            raise

    def reads(self, settings, secrets: dict) -> bool:
        """Does an early standby, sent ``settings``, read the run's ``secrets`` from the environment
        it inherited? Told here, from the copy of it kept at the fork (nothing secret is sent): a run
        given an environment of its own (``check_paths``' ``environ``), or one that changed since,
        must not have its pages checked with other secrets (nor their findings cached as its own)."""
        from ..settings import ConfigError, secrets_from_env

        if self.environ is None:
            return False
        try:
            inherited = secrets_from_env(settings, self.environ)
        except ConfigError:
            return False
        return _revealed(inherited) == _revealed(secrets)

    def adopt(self, settings) -> bool:
        """An early standby given the run's settings (no secret is in them); False, and it ended, if it
        died or they cannot be sent (settings made in Python may hold what pickle refuses: a
        ``MappingProxyType``): the run then forks a checker of its own, which inherits them."""
        try:
            self.pages.write(_framed(settings))
            self.pages.flush()
        except Exception:  # noqa: BLE001 - OSError (it died), PicklingError, TypeError...
            self.close()
            return False
        return True

    @staticmethod
    def _check_and_exit(parent: int, unused: tuple[int, int], read_pages: int, write_results: int,
                        early: bool) -> None:
        code = 1
        try:
            become_child(parent)
            yield_processor()  # to the main process's looking too
            for fd in unused:
                os.close(fd)
            from . import checker
            from ..flows import load_flows
            from ..settings import secrets_from_env

            checked = []
            if early:  # the machinery first, then the settings it was forked too early to know
                checker.load_checking(None, libraries=False)
                settings = _receive(read_pages)
                checker.RUN = (settings, secrets_from_env(settings), None, None, load_flows(settings.flows_dirs))
            checker.load_checking(checker.RUN[4], libraries=False)  # type: ignore[index]
            # PyJWT and jsonschema only while no page waits: a page edited outside its samples
            # needs neither (its notes answer for them), and is checked as soon as it comes
            for load in checker.library_loads(checker.RUN[4]):  # type: ignore[index]
                if select.select([read_pages], [], [], 0)[0]:
                    break
                load()
            while True:
                looked = _receive(read_pages)
                if not looked:  # the end
                    break
                checked.append(checker.check(looked))
            os.close(read_pages)
            with os.fdopen(write_results, "wb") as out:
                pickle.dump(checked, out, pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # noqa: BLE001 - the main process checks its pages instead
            pass
        finally:
            os._exit(code)

    def takes(self) -> bool:
        return self.pid != 0 and len(self.sent) < FORK_AT

    def send(self, looked: tuple) -> None:
        try:
            self.pages.write(_framed(looked))
            self.pages.flush()
        except OSError:  # it died: its pages are checked here (``results``)
            self._stop()
        self.sent.append(looked)

    def results(self) -> Iterator[tuple]:
        """What it checked; the pages it did not, checked here."""
        checked: list[tuple] = []
        if self.sent and self.pid:
            try:
                self.pages.write(_framed(()))
                self.pages.close()
                checked = pickle.load(self.back)
            except Exception:  # noqa: BLE001 - EOF or a torn message: it died
                checked = []
        done = {looked[0] for looked in checked}
        yield from checked
        missed = [looked for looked in self.sent if looked[0] not in done]
        if missed:
            from . import checker

            yield from checker.check_batch(missed)

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


def _framed(message: object) -> bytes:
    """A message to the checker: its length, then its pickle. The checker reads its pipe unbuffered
    (``_receive``), so that a ``select`` on it tells whether a page waits."""
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(8, "big") + data


def _receive(fd: int) -> object:
    """The next message (``_framed``); EOFError if the pipe ends first (the run is gone)."""
    return pickle.loads(_exactly(fd, int.from_bytes(_exactly(fd, 8), "big")))


def _exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the pipe ended")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _revealed(secrets: dict) -> dict[str, tuple[str, str]]:
    """role -> (value, the variable it came from): two runs' secrets compared, in this process."""
    return {role: (secret.reveal(), secret.source) for role, secret in secrets.items()}
