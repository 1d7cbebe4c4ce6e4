"""A content-hash cache of each page's findings, for repeated runs over a big tree.

An entry is keyed by the SHA-256 of the page's bytes; the whole cache is keyed by the tool
(version, code, Python, every place it imports from: ``stamps.tool_stamp``), the bytes of every
flow schema, the settings and a slow one-way fingerprint of each configured secret (never the
secret). A change of any of them starts the cache afresh.

Each page's path is noted with its stamp as read (``stamps.stamp_of``: device, inode, size,
modification and change time) and its content hash, as git's index does: a page whose stamp is
unchanged is not read again, unless it was *racily clean* when noted (changed less than a tick
before the run began: ``stamps.is_racy``); such a page is read and hashed again, and its findings
reused only if its bytes are the same. A page that holds nothing to check is noted as such, not
hashed: looking at it again costs no more. Pages whose findings depend on the clock (tokens with
exp or nbf) are not cached.

The file is read with care, since a repository can commit one (as a link to ``/dev/zero``, a
FIFO, a huge file): only a regular file, not through a link, never blocking, at most
``MAX_BYTES``, and parsed only if it starts with this run's key (which no one can forge: it holds
inode numbers and nanosecond times of the tool's install). What does not have the shape this
version writes is no entry. The default folder is not used if it is a link (``refused_link``:
a committed ``.oo-jwt-cache -> .`` would have the run write into the checkout), and its
``.gitignore`` is never made through a link. It does not grow for ever: a run forgets the pages
under its folders that it did not keep, and the findings no page refers to any more. It is
written whole, through a temporary file that a failed write (a full disk) removes.

A run that changed a few pages (an edit, then a check) does not write the whole file again (a
tenth of such a run's time on a tree of ten thousand pages): it appends what it changed to the
journal beside it, one line that names the file it follows (its key and its own id, drawn anew at
each whole write). A run reads the file, then the journal's lines that follow this very file, in
order; a line torn by a killed run, or of another file or key, is no change. Every
``JOURNAL_LINES`` runs, or for a larger change, the file is written whole again and the journal
removed (a line left behind names the file before: ignored).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..model import Finding, Location, Severity, Span, Suppressed
from .files import APPEND_FLAGS, NO_FOLLOW, NotRead, read_regular_file
from .places import CACHE_FILE as FILE
from .places import CACHE_JOURNAL as JOURNAL
from .stamps import Stamp, is_racy, secret_fingerprint, tool_stamp

FORMAT = "findings 4 (with subjects): stats 'dev:ino:size:mtime_ns:ctime_ns content-hash racy'"  # part of the key
NOTHING = ""  # the content hash noted for a page with nothing to check (never hashed: it is cheaper to look again)
# Larger cache files are neither read nor written. Fixed, not relative to the tree (its size is
# not known when the file is read): the corpus (9,922 pages) takes 1.6 MB, 200,000 pages about
# 14 MB; 256 MiB is a million pages with findings, and bounds what a planted file can cost.
MAX_BYTES = 256 << 20
JOURNAL_LINES = 32  # runs appended to the journal before the file is written whole again
JOURNAL_PAGES = 64  # the most pages a run changes and appends (a larger change writes the file whole)
MAX_JOURNAL_BYTES = 8 << 20  # a larger journal is not read (its runs' pages are checked again)
TEMP_PREFIX, TEMP_SUFFIX = ".findings-", ".tmp"
STALE_TEMP_SECONDS = 3600  # a temporary file this old is a killed run's: removed by the next save

_NOTHING_NOTED = f" {NOTHING} 0"  # what follows the stamp of a page noted as holding nothing to check
_NOTHING_FOUND: tuple = ((), frozenset())  # its findings and roles without a secret (read only: shared)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def fingerprint(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def settings_text(settings) -> str:
    """The settings as the cache keys them: every field in its repr, but a set's items sorted (a
    frozenset's repr follows the hash of its strings, which changes from one process to the next:
    two rules disabled made every run a cold one). Per-path overrides are part of it (their
    ``disable`` is kept sorted), so a changed override starts afresh; the baseline is not (it
    filters the findings of a run, it never makes them)."""
    parts = []
    for name, value in zip(settings._fields, settings):
        if name == "baseline":
            continue
        parts.append(f"{name}={sorted(value)!r}" if isinstance(value, (set, frozenset)) else f"{name}={value!r}")
    return f"{type(settings).__name__}({', '.join(parts)})"


def run_key(schema_files: list[Path], settings_repr: str, secrets: dict) -> str:
    parts = [FORMAT.encode(), tool_stamp().encode("utf-8", "surrogateescape"), settings_repr.encode()]
    for path in sorted(schema_files):
        parts += [str(path).encode(), path.read_bytes()]
    slow: dict[str, bytes] = {}  # one fingerprint per secret (OO_JWT_SECRET serves every role)
    for role in sorted(secrets):
        value = secrets[role].reveal()
        if value not in slow:
            slow[value] = secret_fingerprint(value)
        parts += [role.encode(), slow[value]]
    return fingerprint(parts)


class Cache:
    """Each page's findings (by content) and stat, in one file read only when a run needs it."""

    def __init__(self, folder: Path, key: str):
        self.folder = folder
        self.key = key
        # before any page is read: a page changed less than a tick before it is racily clean
        self.started = time.time_ns()
        self.entries: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.dirty = False
        self.displaced = False  # a page noted with other findings than before (``put``)
        self.id: str | None = None  # of the file loaded (None: none was)
        self.journal_lines = 0  # the journal's lines that followed it
        # what this run changed: the pages' stats and findings, the pages and findings forgotten
        self.changed_stats: dict[str, str] = {}
        self.changed_entries: dict[str, Any] = {}
        self.forgotten: list[str] = []
        self.dropped: list[str] = []

    def load(self) -> None:
        try:  # a regular file, not reached through a link, never blocking, bounded
            data, _ = read_regular_file(self.folder / FILE, MAX_BYTES, follow=False)
        except (OSError, NotRead):
            return
        if not data.startswith(b'{"key":' + json.dumps(self.key).encode() + b","):
            return  # not this run's (another key, a planted file): never parsed
        try:
            loaded = json.loads(data)
        except (ValueError, RecursionError):
            return
        if type(loaded) is dict and loaded.get("key") == self.key:
            entries, stats, file_id = loaded.get("entries"), loaded.get("stats"), loaded.get("id")
            if type(entries) is dict and type(stats) is dict:
                self.entries, self.stats = entries, stats
                if type(file_id) is str:
                    self.id = file_id
                    self._replay()

    def _replay(self) -> None:
        """The changes the journal holds of the runs since the file was written, in order."""
        try:
            data, _ = read_regular_file(self.folder / JOURNAL, MAX_JOURNAL_BYTES, follow=False)
        except FileNotFoundError:
            return
        except (OSError, NotRead):  # too large, not a file, unreadable: written whole (and removed) at the save
            self.journal_lines = JOURNAL_LINES
            return
        follows = self._line_start()
        for line in data.split(b"\n"):
            if not line.startswith(follows):
                continue  # empty, torn, or of another file
            try:
                change = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if type(change) is not dict:
                continue
            stats, entries = change.get("stats"), change.get("entries")
            forgotten, dropped = change.get("forgotten"), change.get("dropped")
            if not (type(stats) is dict and type(entries) is dict and type(forgotten) is list and type(dropped) is list):
                continue
            self.entries.update(entries)
            self.stats.update(stats)
            for path in forgotten:
                if type(path) is str:
                    self.stats.pop(path, None)
            for content_hash in dropped:
                if type(content_hash) is str:
                    self.entries.pop(content_hash, None)
            self.journal_lines += 1

    def _line_start(self) -> bytes:
        return b'{"key":' + json.dumps(self.key).encode() + b',"id":' + json.dumps(self.id).encode() + b","

    def saved(self) -> bool:
        """Whether a cache file is there to load (a run may then be warm), told by a stat."""
        return os.path.isfile(self.folder / FILE)

    @staticmethod
    def hash(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def known(self, path: str, stamp: Stamp, shown: str) -> tuple[list[Finding], set[str]] | None:
        """The findings of a file unchanged (same stamp) since a run that read it, if that run saw
        it older than a tick; None if it must be read (and hashed)."""
        seen = self.stats.get(path)
        if type(seen) is not str or not seen.startswith(stamp):  # another stamp, or no entry's shape
            return None
        # "<stamp> <content hash> <racy>": this very stamp, then a hash noted when the page was not
        # racily clean (a hash holds no space: anything else is no entry)
        rest = seen[len(stamp):]
        if rest == _NOTHING_NOTED:  # most pages: nothing to check
            return _NOTHING_FOUND
        if rest[:1] == " " and rest.endswith(" 0") and " " not in rest[1:-2]:
            return self.get(rest[1:-2], shown)
        return None

    def get(self, content_hash: str, shown: str) -> tuple[list[Finding], set[str]] | None:
        """The findings of a page by its content hash; None if there are none of the right shape."""
        if content_hash == NOTHING:
            return [], set()
        entry = self.entries.get(content_hash) if type(content_hash) is str else None
        if type(entry) is not dict:
            return None
        findings, unsigned = entry.get("findings"), entry.get("unsigned")
        if type(findings) is not list or type(unsigned) is not list or not all(type(r) is str for r in unsigned):
            return None
        try:
            return [_finding(d, shown) for d in findings], set(unsigned)
        except (TypeError, ValueError):
            return None

    def notes_of(self, path: str) -> dict[str, str] | None:
        """The ``remembered`` notes of the last check of the page at ``path`` (it changed since, or
        it would not be checked), kept with that check's findings; None if there are none."""
        seen = self.stats.get(path)
        if type(seen) is not str or seen.count(" ") != 2:
            return None
        entry = self.entries.get(seen.split(" ")[1])
        notes = entry.get("notes") if type(entry) is dict else None
        if type(notes) is not dict or not all(type(text) is str for text in notes.values()):
            return None  # not the shape a run writes: no note is taken from it
        return notes

    def put(self, path: str, stamp: Stamp, content_hash: str, findings: list[Finding], unsigned: set[str],
            notes: dict[str, str] | None = None) -> None:
        if content_hash != NOTHING:
            entry = {"findings": [_dump(f) for f in findings], "unsigned": sorted(unsigned)}
            known = self.entries.get(content_hash)
            if notes is None and type(known) is dict and "notes" in known:
                notes = known["notes"]  # a page answered for by its content keeps the notes of its check
            if notes:
                entry["notes"] = notes
            if self.entries.get(content_hash) != entry:
                self.entries[content_hash] = self.changed_entries[content_hash] = entry
                self.dirty = True
        stat = f"{stamp} {content_hash} {int(is_racy(stamp, self.started))}"
        before = self.stats.get(path)
        if before != stat:
            if _is_stat(before) and before.split(" ")[1] != content_hash:
                self.displaced = True  # the findings it was noted with may be no page's now
            self.stats[path] = self.changed_stats[path] = stat
            self.dirty = True

    def prune(self, roots: list[str], kept: set[str]) -> None:
        """Forget the pages under ``roots`` (this run's files and folders, as given) that this run
        did not keep (deleted, renamed, excluded, unreadable, no longer cacheable), and then the
        findings no page refers to. Pages elsewhere are another run's: kept."""
        named = set(roots)
        folders = tuple(root if root.endswith(os.sep) else root + os.sep for root in roots)  # as the walk joins
        gone = [path for path in self.stats.keys() - kept
                if path in named or path.startswith(folders) or not _is_stat(self.stats[path])]
        for path in gone:
            del self.stats[path]
            self.changed_stats.pop(path, None)
        self.forgotten += gone
        if not (gone or self.displaced):  # no page gone, none noted with other findings: none lost its last page
            return
        referred = {seen.split(" ")[1] for seen in self.stats.values() if _is_stat(seen)}
        for content_hash in [h for h in self.entries if h not in referred]:
            del self.entries[content_hash]
            self.changed_entries.pop(content_hash, None)
            self.dropped.append(content_hash)
        self.dirty = True

    def save(self) -> str | None:
        """Write what this run changed: appended to the journal if it is a few pages, else the
        cache file whole; why it could not be written (the run goes on: the next one is only
        slower), or None."""
        if not self.dirty:
            return None
        if (self.id is not None and self.journal_lines < JOURNAL_LINES
                and len(self.changed_stats) + len(self.forgotten) + len(self.dropped) <= JOURNAL_PAGES and self._append()):
            return None
        # json.dumps, not json.dump: only the one-shot encoder is the C one (ten times faster);
        # the key first, as ``load`` looks for it (ASCII: as many bytes as characters)
        file_id = os.urandom(8).hex()
        data = json.dumps({"key": self.key, "id": file_id, "entries": self.entries, "stats": self.stats},
                          separators=(",", ":"))
        if len(data) > MAX_BYTES:  # a larger one would not be read back
            return None
        unwritten = write(self.folder, FILE, data.encode("ascii"))
        if unwritten is None:
            try:  # its lines follow the file before: no more than a few bytes to read past
                os.unlink(self.folder / JOURNAL)
            except OSError:
                pass
        return unwritten

    def _append(self) -> bool:
        """This run's changes, appended to the journal as one line (after a line end: a line that a
        killed run left torn ends there); False if they could not be (write the file whole)."""
        line = json.dumps({"key": self.key, "id": self.id, "stats": self.changed_stats, "entries": self.changed_entries,
                           "forgotten": self.forgotten, "dropped": self.dropped}, separators=(",", ":"))
        if len(line) > MAX_JOURNAL_BYTES // JOURNAL_LINES:  # a few pages, but large findings: the file whole
            return False
        try:  # never through a link, nor into anything but a regular file (a FIFO would block)
            fd = os.open(self.folder / JOURNAL, APPEND_FLAGS, 0o600)
        except OSError:
            return False
        try:
            if not S_ISREG(os.fstat(fd).st_mode):
                return False
            data = memoryview(("\n" + line + "\n").encode("ascii"))
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            return False
        finally:
            os.close(fd)
        return True


def _is_stat(seen: Any) -> bool:
    return type(seen) is str and seen.count(" ") == 2


def write(folder: Path, name: str, data: str | bytes) -> str | None:
    """A file of the cache folder, replaced whole (a reader never sees half of it); the folder
    is made, and ignores itself in git. A folder that cannot be written is only a slower next run:
    the reason is returned (None: written). A write that fails (a full disk, a file size limit,
    Ctrl-C) leaves no temporary file."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(folder)
        fd, temporary = _temporary_file(folder)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(temporary, folder / name)
    except BaseException as exc:  # noqa: BLE001 - the temporary file goes whatever stopped the write
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if not isinstance(exc, OSError):
            raise
        return exc.strerror or type(exc).__name__
    _remove_stale_temporaries(folder)
    return None


def _temporary_file(folder: Path) -> tuple[int, str]:
    """A new file of the folder, only this process's (made by it, readable by its user only, not
    through a link), open for writing: as ``tempfile.mkstemp`` makes one, without importing
    ``tempfile`` (and ``shutil``, ``random``) at the end of every run that changed a page."""
    for _ in range(100):
        path = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}{TEMP_SUFFIX}")
        try:
            return os.open(path, _CREATE_FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no temporary file name left in {folder}")


def _ignore_in_git(folder: Path) -> None:
    """A ``.gitignore`` of ``*`` in the folder, made only if there is none, and never through a
    link: not through a link by that name (committed), nor in a folder reached through a link
    (``--cache-dir`` naming a link to a tmpfs: its target is not the checkout; see ``refused_link``)."""
    directory = getattr(os, "O_DIRECTORY", 0)
    if not (directory and NO_FOLLOW and os.open in os.supports_dir_fd):  # Windows: no dir_fd
        if os.path.islink(folder):
            return
        _create_gitignore(os.fspath(folder / ".gitignore"), None)
        return
    try:
        where = os.open(folder, os.O_RDONLY | directory | NO_FOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # a link (ELOOP, ENOTDIR), or gone: no .gitignore made through it
        return
    try:
        _create_gitignore(".gitignore", where)
    finally:
        os.close(where)


def _create_gitignore(path: str, folder_fd: int | None) -> None:
    try:
        fd = os.open(path, _CREATE_FLAGS, 0o644, dir_fd=folder_fd)
    except FileExistsError:
        return
    try:
        os.write(fd, b"*\n")
    finally:
        os.close(fd)


def refused_link(folder: Path) -> str | None:
    """Why the cache folder a run uses by default (the user did not name it) is not used: it is a
    symbolic link. A repository can commit ``.oo-jwt-cache -> .`` (or ``-> ../..``), and the run
    would write its files through it, into the checkout (a ``.gitignore`` of ``*`` that hides new
    files from ``git status``) or outside it. A folder named with ``--cache-dir`` is followed: a
    user links it to a tmpfs on purpose. None: not a link, used."""
    if not os.path.islink(folder):
        return None
    return (f"the cache folder {folder} is a symbolic link (a repository can commit one): not followed, this run "
            "uses no cache; name it with --cache-dir to use it")


def _remove_stale_temporaries(folder: Path) -> None:
    """The temporary files a killed run left (older than ``STALE_TEMP_SECONDS``: not a run writing now)."""
    try:
        limit = time.time() - STALE_TEMP_SECONDS
        with os.scandir(folder) as entries:
            for entry in entries:
                if (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)
                        and entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit):
                    os.unlink(entry.path)
    except OSError:
        pass


def _dump(f: Finding) -> list:
    loc, span = f.location, f.span
    return [f.rule, int(f.severity), loc.line, loc.column, loc.end_line, loc.end_column, f.message,
            f.flow, f.pointer, [span.start, span.end] if span else None, f.subject,
            [f.suppressed.line, f.suppressed.reason] if f.suppressed else None]


def _finding(d: Any, shown: str) -> Finding:
    """A finding from its ``_dump``; TypeError or ValueError if it is not of that shape."""
    if type(d) is not list:
        raise TypeError("not a finding")
    rule, severity, line, column, end_line, end_column, message, flow, pointer, span, subject, suppressed = d
    if not (type(rule) is str and type(message) is str and _optional_str(flow) and _optional_str(pointer)
            and _optional_str(subject)
            and all(type(n) is int for n in (severity, line, column, end_line, end_column))):
        raise TypeError("not a finding")
    if span is not None and not (type(span) is list and len(span) == 2 and all(type(n) is int for n in span)):
        raise TypeError("not a span")
    return Finding(rule, Severity(severity), shown, Location(line, column, end_line, end_column), message,
                   flow, pointer, Span(*span) if span else None, subject=subject, suppressed=_suppressed(suppressed))


def _suppressed(d: Any) -> Suppressed | None:
    """How a cached finding was suppressed (``[directive line, reason]``), None if it was not."""
    if d is None:
        return None
    if not (type(d) is list and len(d) == 2 and type(d[0]) is int and _optional_str(d[1])):
        raise TypeError("not a suppression")
    return Suppressed(d[0], d[1])


def _optional_str(value: Any) -> bool:
    return value is None or type(value) is str
