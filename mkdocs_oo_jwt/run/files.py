"""A page on disk: reading one (bounded, a regular file only) into a ``Page``, and the findings
about a page as a whole (it cannot be read; the checker failed). Finding pages is ``walk``'s."""

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
    return read if isinstance(read, Finding) else decode_page(read[0], shown)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_bytes(file: str, shown: str, settings: Settings) -> tuple[bytes, Stamp] | Finding:
    """At most ``max_page_bytes`` of a regular file (a FIFO or a device would block or never end:
    opened non-blocking, looked at, and not read), with its stamp as read (``stamps.stamp_of``)."""
    limit = settings.max_page_bytes
    try:
        fd = os.open(file, _OPEN_FLAGS)
        try:
            stat = os.fstat(fd)
            if not S_ISREG(stat.st_mode):
                return page_problem(shown, "not a regular file: not read")
            if stat.st_size > limit:
                return _too_big(shown, stat.st_size, settings)
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
    except OSError as exc:
        return page_problem(shown, f"cannot read: {exc.strerror or exc.__class__.__name__}")
    if len(data) > limit:  # grew since it was looked at
        return _too_big(shown, len(data), settings)
    return data, stamp_of(stat)


def _too_big(shown: str, size: int, settings: Settings) -> Finding:
    return page_problem(shown, f"page of {size} bytes or more is over the limit of {settings.max_page_bytes} (max_page_bytes): not checked")


def decode_page(data: bytes, shown: str) -> Page | Finding:
    try:
        return Page.from_bytes(shown, data)
    except PageDecodeError as exc:
        return page_problem(shown, str(exc), exc.line, exc.column)


# ------------------------------------------------------------------ the walk
