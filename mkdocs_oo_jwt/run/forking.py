"""The processes of a run: whether this one may fork, how a forked child dies with its parent, and
how a signal that ends a run becomes an exception (the run then shuts its children down).

A child (the looker, a checker, the plugin's background checker) must never outlive the process
that forked it: a wrapper with a timeout, a CI runner or an IDE ends a run with SIGTERM or SIGKILL,
and a pool worker left behind waits on its task queue forever. So a child, first thing after the
fork (``become_child``), asks the kernel to kill it when its parent dies (Linux:
``PR_SET_PDEATHSIG``), or else watches its parent from a thread; and checks that the parent is
still the one that forked it (it may have died before the request was made). SIGINT and SIGTERM
are held (blocked) from before the fork (``held_signals``) until the child has set its own
handling: a Ctrl-C at that moment ends the child quietly, never with a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from typing import Iterator

# the signals held around a fork, and given their default action (end quietly) in a child
HELD = (signal.SIGINT, signal.SIGTERM)
PARENT_POLL = 0.5  # seconds between two looks at the parent, where the kernel cannot watch it


def fork_is_safe() -> bool:
    """The platform has ``fork``, and no other thread runs (a fork copies no other thread, nor
    the locks they hold, which could then never be released)."""
    return hasattr(os, "fork") and not other_threads()


def other_threads() -> bool:
    """Does a thread other than this one run in the process?"""
    threading = sys.modules.get("threading")  # never imported: no other thread was started with it
    return threading is not None and threading.active_count() > 1


@contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread while it forks: a child starts with them held
    and takes them once it is ready (``become_child``); this process takes any that came meanwhile
    when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def become_child(parent: int) -> None:
    """Run first in a forked child of ``parent``. SIGINT and SIGTERM end it quietly (no
    traceback; a Ctrl-C at a terminal reaches the whole process group, and the parent says what
    happened), unless they were ignored; it dies with its parent; then the held signals are let in.
    Also a ``ProcessPoolExecutor`` initializer (``initargs=(os.getpid(),)``)."""
    for sig in HELD:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
    if not _kernel_kills_with(parent):
        _watch(parent)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)


CHECKER_NICENESS = 5  # how much less a checker weighs than the process looking at the pages (``yield_processor``)
PIPE_BYTES = 1 << 20  # a pipe's size where the system allows: its writer need not wait while its reader imports


def yield_processor() -> None:
    """Run by a checker once it is a child: it yields the processor to the process that looks at
    the pages, whose pages it waits for (that looking is what every checker waits on; the
    checkers' own work fills what is left of the cores)."""
    try:
        os.nice(CHECKER_NICENESS)
    except (AttributeError, OSError):
        pass


def checker_start(parent: int) -> None:
    """A checker of a pool (its ``initializer``): it dies with its parent (``become_child``) and
    yields the processor (``yield_processor``)."""
    become_child(parent)
    yield_processor()


def pipe() -> tuple[int, int]:
    """A pipe of ``PIPE_BYTES`` where the system allows (else a smaller one: the writer may wait
    for the reader now and then)."""
    read, write = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass
    return read, write


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _kernel_kills_with(parent: int) -> bool:
    """Linux: SIGKILL to this process when the thread that forked it ends (its parent's main
    thread here: every fork of a run is made from it). False where the kernel cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc with prctl (a static or odd build)
        return False


def _watch(parent: int) -> None:
    """Elsewhere: a daemon thread that ends this process once its parent is gone (it is then
    adopted: its parent id changes)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="oo-jwt-parent-watch", daemon=True).start()


class Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt: not an ``Exception``,
    so that no ``except Exception`` of a run takes it for a page's failure; the run's ``finally``
    blocks shut its children down on the way out."""


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """SIGTERM raises ``Terminated`` in the main thread while inside. The first one only: the
    handler gives SIGTERM back its default action, so a second one ends the process at once (and
    its children with it). Nothing is changed where SIGTERM is ignored or handled already, or
    outside the main thread (where no handler can be set)."""
    def raise_terminated(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated

    try:
        previous = signal.getsignal(signal.SIGTERM)
        if previous is not signal.SIG_DFL:
            previous = None
        else:
            signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
