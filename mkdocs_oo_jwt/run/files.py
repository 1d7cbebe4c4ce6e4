"""Pages on disk: finding them under files and folders, reading one (bounded, a regular file only)
into a ``Page``, and the findings about a page as a whole (it cannot be read; the checker failed)."""

from __future__ import annotations

import os
from pathlib import Path
from stat import S_ISREG
from typing import Iterable, Iterator

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
            # every page) and one byte more; read on while it grows, up to the limit
            data = os.read(fd, stat.st_size + 1)
            while len(data) <= limit:
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


def discover(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(file, path as reported) for every page under the given files and folders, sorted.

    Plain strings (a run over ten thousand pages should not pay for path objects); hidden folders
    are skipped and symbolic links to folders are not followed (no loops)."""
    for file, shown, _ in discover_entries(paths):
        yield file, shown


def discover_entries(paths: Iterable[str]) -> Iterator[tuple[str, str, os.DirEntry | None]]:
    """``discover`` with each page's directory entry (None for a file given by name), whose
    ``stat()`` costs less than a ``stat`` of the path. Order as ``os.walk`` top-down with sorted
    names: a folder's pages, then each subfolder's; a folder that cannot be listed is skipped."""
    for given in paths:
        if os.path.isdir(given):
            prefix = given if given.endswith(os.sep) else given + os.sep  # how os.walk joins
            shown_base = "" if given in (".", "./") else given.rstrip("/" + os.sep).replace(os.sep, "/") + "/"
            yield from _walk(prefix, shown_base)
        else:
            yield given, given, None


def _walk(folder: str, shown: str) -> Iterator[tuple[str, str, os.DirEntry]]:
    todo = [(folder, shown)]  # folders still to list, the next one last (no generator per level)
    while todo:
        folder, shown = todo.pop()
        pages, subfolders = [], []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if _is_dir(entry):  # a link to a folder is neither walked nor a page
                        if not entry.name.startswith(".") and not entry.is_symlink():
                            subfolders.append(entry.name)
                    elif entry.name.lower().endswith(PAGE_SUFFIXES):
                        pages.append(entry)
        except OSError:
            continue
        pages.sort(key=_name)
        for entry in pages:
            yield folder + entry.name, shown + entry.name, entry
        subfolders.sort(reverse=True)
        todo += [(folder + name + os.sep, shown + name + "/") for name in subfolders]


def page_stat(file: str, entry: os.DirEntry | None) -> os.stat_result:
    """The stat of a page as ``discover_entries`` found it (from its directory entry if it has one)."""
    return entry.stat() if entry is not None else os.stat(file)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link to itself: as os.walk, not a folder (and its read says why)
        return False


def _name(entry: os.DirEntry) -> str:
    return entry.name
