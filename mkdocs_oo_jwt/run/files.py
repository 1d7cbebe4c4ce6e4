"""A page on disk: reading one (bounded, a regular file only) into a ``Page``, and the findings
about a page as a whole (it cannot be read; the checker failed). Finding pages is ``walk``'s.
The bounded read itself (``read_regular_file``) is the run's one way to read a file it did not
write: the cache's file and fix's own files are read with it too."""

from __future__ import annotations

import os
from pathlib import Path
from stat import S_ISREG

from ..model import Finding, Location, Severity
from ..page import Page, PageDecodeError
from ..settings import Settings
from .stamps import Stamp, stamp_of

PAGE_SUFFIXES = (".md", ".markdown", ".mdx")


def internal_error(shown: str, exc: BaseException) -> Finding:
    """A finding for a checker failure: the exception's type only (its text might quote the page)."""
    return Finding("internal-error", Severity.ERROR, shown, Location(1, 1, 1, 1),
                   f"the checker failed on this page ({exc.__class__.__name__}); the other pages were checked")


def page_problem(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding("page-unreadable", Severity.ERROR, path, Location(line, column, line, column), message)


def read_page(path: Path, shown: str, settings: Settings) -> Page | Finding:
    """A page from disk, or the finding that says why it cannot be checked."""
    read = read_bytes(str(path), shown, settings)
    return read if isinstance(read, Finding) else decode_page(read[0], shown, str(path))


# How a file is opened to be read: never blocking (a FIFO or a device put where a file was
# expected), not inherited by a child, its bytes as they are (Windows). ``NO_FOLLOW`` is added
# where a link at that name is not to be followed (the cache's file, fix's old page).
READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
# How a file is opened to be appended to (the cache's journal): made if missing, never through a
# link, never blocking (a FIFO with no reader fails at once instead of waiting for one).
APPEND_FLAGS = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | NO_FOLLOW
                | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRead(Exception):
    """A file that was opened and looked at, and not read (``read_regular_file``)."""


class NotRegularFile(NotRead):
    """A FIFO, a device, a folder: reading it would block, never end, or mean nothing."""


class OverLimit(NotRead):
    """A file larger than the limit: ``size`` is its size (or as many bytes as were read of it)."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def read_regular_file(path: str | os.PathLike, limit: int, follow: bool = True) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``limit`` bytes, and its stat as opened: the one
    bounded read of the run (pages, the cache's file, fix's own files). A link at ``path`` is
    followed only if ``follow``. Raises ``OSError`` (it cannot be opened or read),
    ``NotRegularFile`` or ``OverLimit`` (looked at, not read)."""
    fd = os.open(path, READ_FLAGS | (0 if follow else NO_FOLLOW))
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            raise NotRegularFile(path)
        if stat.st_size > limit:
            raise OverLimit(stat.st_size)
        # ask for the size the file has (asking for the limit would allocate that much for
        # every page) and one byte more; read on while it grows (or came short), up to the
        # limit. Exactly its size is the whole file as stat'ed: no second read to see its end
        data = os.read(fd, stat.st_size + 1)
        while len(data) != stat.st_size and len(data) <= limit:
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > limit:  # grew since it was looked at
        raise OverLimit(len(data))
    return data, stat


def read_bytes(file: str, shown: str, settings: Settings) -> tuple[bytes, Stamp] | Finding:
    """At most ``max_page_bytes`` of a regular file (``read_regular_file``), with its stamp as
    read (``stamps.stamp_of``); else the finding that says why it was not read."""
    try:
        data, stat = read_regular_file(file, settings.max_page_bytes)
    except NotRegularFile:
        return page_problem(shown, "not a regular file: not read")
    except OverLimit as exc:
        return _too_big(shown, exc.size, settings)
    except OSError as exc:
        return page_problem(shown, f"cannot read: {exc.strerror or exc.__class__.__name__}")
    return data, stamp_of(stat)


def _too_big(shown: str, size: int, settings: Settings) -> Finding:
    return page_problem(shown, f"page of {size} bytes or more is over the limit of {settings.max_page_bytes} (max_page_bytes): not checked")


def decode_page(data: bytes, shown: str, file: str | None = None) -> Page | Finding:
    """The page of bytes read from ``file`` (shown as ``shown``), or why it is no page."""
    try:
        return Page.from_bytes(shown, data, file)
    except PageDecodeError as exc:
        return page_problem(shown, str(exc), exc.line, exc.column)
