"""``oo-jwt fix``: put freshly signed tokens in place of stale ones, in the source files.

Only the characters of each stale token change; every other byte of the file is kept (line
endings, BOM, trailing spaces, tabs). The engine decides what to re-sign (``PageReport.fixes``),
``fixes.apply`` splices, and this module writes: a temporary file in the same folder, fsync, then
a rename over the page, keeping the file's mode (and owner where allowed) and writing a symlink
through to its target. A read-only file, or one that changed on disk since it was read, is left
alone and reported, with the findings of the page as it is on disk.

Nothing another program writes to the page is lost (see ``write_atomic``): the old file is kept
open and compared with what was read just before the rename; the rename is an atomic exchange
(Linux), so what it displaced can be looked at, and put back if it is not the file that was read
or was written since; and the old file is watched after the rename until no program has it open
for writing (Linux tells) or ``SETTLE_SECONDS`` have passed, a late write to it being put back
too. What a rename cannot keep: a write into the old file after that (a program that keeps the
page open), the other names of a hard-linked page (they keep the old text), and the page's
extended attributes, ACLs and inode number. Nothing here prints; the command (cli.py) decides
where the text goes.
"""

from __future__ import annotations

import difflib
import errno
import os
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..engine import PageReport, check_page
from ..fixes import OverlappingFixes, apply
from ..flows import FlowRegistry, load_flows
from ..model import Finding, Fix, Notice, RunResult, Severity
from ..page import Page
from ..settings import Secret, Settings, for_file, secrets_from_env
from .checking import note_fail_on, run_notices
from .files import NO_FOLLOW, READ_FLAGS, NotRead, internal_error, read_page, read_regular_file
from .walk import Unlistable, discover_entries

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class NoSecret(Exception):
    """No secret is configured for any role: nothing can be signed."""


@dataclass
class FileFix:
    """One page through ``fix``: its text before and after, and what remains wrong after."""

    path: Path
    shown: str
    old_text: str | None = None  # None: the page could not be read
    new_text: str | None = None
    bom: bool = False
    fixes: list[Fix] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # of the text left on disk (or the read problem)
    unsigned_roles: set[str] = field(default_factory=set)
    written: bool = False
    problem: str | None = None  # why a changed page was not written

    @property
    def changed(self) -> bool:
        return self.old_text is not None and self.new_text != self.old_text

    @property
    def count(self) -> int:
        return len(self.fixes) if self.changed else 0

    def diff(self) -> str:
        """A unified diff of the change (empty when nothing changes), ``a/`` and ``b/`` paths."""
        if not self.changed:
            return ""
        prefix = "\ufeff" if self.bom else ""
        name = self.shown.replace("\\", "/")
        out = []
        for line in difflib.unified_diff(
            _lines(prefix + self.old_text), _lines(prefix + (self.new_text or "")), f"a/{name}", f"b/{name}"
        ):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)


@dataclass
class FixRun:
    files: list[FileFix]
    result: RunResult  # the findings that remain after fixing, in the shape ``check`` reports

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files if f.changed]

    @property
    def problems(self) -> list[FileFix]:
        return [f for f in self.files if f.problem is not None]


def _lines(text: str) -> list[str]:
    """Lines as git sees them: split after each ``\\n`` only (a ``\\r`` stays in its line)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def fix_file(
    path: Path,
    shown: str,
    settings: Settings,
    flows: FlowRegistry,
    secrets: Mapping[str, Secret],
    write: bool,
    late: LateWrites | None = None,
    fill_placeholders: bool = True,
) -> FileFix:
    """Fix one page: re-sign its stale tokens (and fill its ``<oo-jwt>`` placeholders, unless
    ``fill_placeholders`` is false: a writer's choice to sign at build time), re-check the result,
    and write it if ``write``.

    The old file of a page written is handed to ``late``, to be watched while another program
    may still write to it (without one, that is waited for here)."""
    out = FileFix(Path(path), shown)
    settings = for_file(settings, path)  # the page's own (per-path overrides)
    page = read_page(out.path, shown, settings)
    if isinstance(page, Finding):
        out.findings = [page]
        return out
    out.old_text, out.bom = page.text, page.bom
    try:
        report = check_page(page, settings, flows, dict(secrets))
    except Exception as exc:  # noqa: BLE001 - one page's bug must not stop the run, nor print its message
        out.new_text, out.findings = page.text, [internal_error(shown, exc)]
        return out
    kept = () if fill_placeholders else frozenset(report.placeholders)
    fixes = [f for f in report.fixes if f.span not in kept]
    try:
        new_text = apply(page.text, fixes)
    except OverlappingFixes as exc:  # an engine bug: change nothing, say so
        out.new_text, out.findings, out.unsigned_roles = page.text, report.findings, report.unsigned_roles
        out.problem = f"not fixed: {exc}"
        return out
    out.new_text = new_text
    if new_text == page.text:
        out.findings, out.unsigned_roles = report.findings, report.unsigned_roles
        return out
    out.fixes = sorted(set(fixes), key=lambda f: f.span.start)
    try:
        after: PageReport = check_page(Page(shown, new_text, page.bom, page.place), settings, flows, dict(secrets))
    except Exception as exc:  # noqa: BLE001
        out.new_text, out.fixes, out.findings = page.text, [], [internal_error(shown, exc)]
        return out
    out.findings, out.unsigned_roles = after.findings, after.unsigned_roles
    if write:
        outcome = write_atomic(out.path, page.encode(), page.encode(new_text))
        if isinstance(outcome, Replaced):
            out.written = True
            own = late is None
            late = LateWrites(settings, flows, secrets) if own else late
            late.watch(out, outcome)
            if own:
                late.settle(wait=True)
        else:  # report the text the page holds, not the one that was not written
            out.problem = outcome.reason
            if outcome.theirs:
                out.findings, out.unsigned_roles = _findings_on_disk(out.path, shown, settings, flows, secrets)
            else:
                out.findings, out.unsigned_roles = report.findings, report.unsigned_roles
    return out


def _findings_on_disk(path: Path, shown: str, settings: Settings, flows: FlowRegistry,
                      secrets: Mapping[str, Secret]) -> tuple[list[Finding], set[str]]:
    """The findings of the page as another program left it (read again: it is not the text fix read)."""
    settings = for_file(settings, path)
    page = read_page(path, shown, settings)
    if isinstance(page, Finding):
        return [page], set()
    try:
        report = check_page(page, settings, flows, dict(secrets))
    except Exception as exc:  # noqa: BLE001
        return [internal_error(shown, exc)], set()
    return report.findings, report.unsigned_roles


# ------------------------------------------------------------------ writing a page in place


@dataclass(frozen=True)
class NotWritten:
    """Why the fixed text is not in place. ``theirs``: the page on disk is no longer the text fix
    read (another program wrote it meanwhile); otherwise it still is, byte for byte."""

    reason: str
    theirs: bool = False


CHANGED = "changed on disk while it was being fixed: not fixed (run again)"
# How long, at most, the old file of a page written is watched for a late write. Where the system
# can tell that no program has it open for writing any more (Linux), it is settled at once then.
SETTLE_SECONDS = 0.2
_MAX_WATCHED = 256  # old files kept open at once (each holds a file descriptor)
_POLL_SECONDS = 0.002  # at the end of a run, how often the old files still watched are looked at


@dataclass
class Replaced:
    """A page whose fixed text is in place, and its old file, still open (it has no name left):
    what another program writes to it (having opened the page before the rename) is seen by
    ``settle`` and put back at the page's path."""

    target: Path
    old: int  # the old file's descriptor
    read: os.stat_result  # the old file when fix read it
    expected: bytes  # its bytes then
    data: bytes  # the fixed text as written
    written: os.stat_result  # the new file as written
    at: float = field(default_factory=time.monotonic)

    def late_write(self) -> NotWritten | None:
        """None: nothing was written to the old file since it was read; otherwise its bytes are
        put back at the page's path (the page is not fixed) and why is returned."""
        if self.old < 0:
            return None
        try:
            if not _written_since(self.old, self.read, self.expected):
                return None
            theirs = _read_from_start(self.old, None)
        except OSError:
            return None  # the open file cannot be read: nothing to put back
        return _put_back(self.target, theirs, self.read, self.written, self.data)

    def final(self) -> bool:
        """Whether nothing more will be written to the old file: no program has it open for
        writing (told where the system can tell), or it has been watched ``SETTLE_SECONDS``."""
        return self.old < 0 or not open_for_writing(self.old) or time.monotonic() - self.at >= SETTLE_SECONDS

    def settle(self) -> NotWritten | None:
        """``late_write``, then the old file is closed."""
        try:
            return self.late_write()
        finally:
            self.close()

    def close(self) -> None:
        if self.old >= 0:
            os.close(self.old)
            self.old = -1


# The signal the kernel sends to the holder of a lease another program breaks (by opening the
# file for writing: through another hard link, say): SIGIO unless ``F_SETSIG`` says otherwise, and
# SIGIO's default action ends the process (exit 157, no report). SIGURG's default is to ignore it.
LEASE_BREAK_SIGNAL = getattr(signal, "SIGURG", None)


def open_for_writing(fd: int) -> bool:
    """Whether another program may still write to the file open at ``fd`` (read-only here, and
    without a name any more): Linux refuses a read lease exactly while some process has the file
    open for writing, and breaks one a process opens it for writing meanwhile. True where that
    cannot be told (another OS, a file of another owner, NFS, SIGURG handled by someone)."""
    try:
        import fcntl

        if signal.getsignal(LEASE_BREAK_SIGNAL) not in (signal.SIG_DFL, signal.SIG_IGN):
            return True  # a lease broken would call that handler: no lease is taken
        fcntl.fcntl(fd, fcntl.F_SETSIG, LEASE_BREAK_SIGNAL)  # never SIGIO, which would end the run
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        return True
    try:
        # a program opening it for writing since the lease was granted has broken it (F_UNLCK)
        return fcntl.fcntl(fd, fcntl.F_GETLEASE) != fcntl.F_RDLCK
    except OSError:
        return True
    finally:
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        except OSError:
            pass


class LateWrites:
    """The old files of the pages just written, watched after each rename. A program that opened
    a page before fix renamed the fixed text over it and writes a moment later writes into the old
    file, which no name reaches any more: once it is done (it has closed the file, or
    ``SETTLE_SECONDS`` have passed), such a write is put back at the page's path and the page is
    reported not fixed, with the findings of the page as it is."""

    def __init__(self, settings: Settings, flows: FlowRegistry, secrets: Mapping[str, Secret]):
        self._settings, self._flows, self._secrets = settings, flows, secrets
        self._watched: list[tuple[FileFix, Replaced]] = []

    def watch(self, done: FileFix, replaced: Replaced) -> None:
        self._watched.append((done, replaced))

    def settle(self, wait: bool) -> None:
        """Settle the old files nothing more will be written to (``wait``: every one, waiting
        for those still open for writing elsewhere, ``SETTLE_SECONDS`` at most)."""
        while True:
            watched, self._watched = self._watched, []
            for number, (done, replaced) in enumerate(watched):
                if replaced.final() or len(watched) - number > _MAX_WATCHED:
                    self._settle(done, replaced)
                else:
                    self._watched.append((done, replaced))
            if not wait or not self._watched:
                return
            time.sleep(_POLL_SECONDS)

    def _settle(self, done: FileFix, replaced: Replaced) -> None:
        failed = replaced.settle()
        if failed is not None:
            _fsync_dir(replaced.target.parent)
            done.written, done.problem = False, failed.reason
            done.findings, done.unsigned_roles = _findings_on_disk(
                done.path, done.shown, self._settings, self._flows, self._secrets)

    def close(self) -> None:
        """Stop watching (the run is interrupted): the old files are closed, not looked at."""
        for _, replaced in self._watched:
            replaced.close()
        self._watched = []


def write_atomic(path: Path, expected: bytes, data: bytes) -> NotWritten | Replaced:
    """Replace the file's bytes ``expected`` with ``data``: the page replaced (to be settled), or
    why it was not done.

    The file is written through a symlink to its target and keeps its mode (and owner where
    allowed). It is left alone if it is read-only or no longer holds ``expected`` (compared
    through the old file, kept open, just before the rename). The new text goes in by exchanging
    it with what is at the path (``exchange``): if that is not the file that was read, or it was
    written since, it goes back and the page is reported not fixed. Later writes to the old file
    are ``Replaced.settle``'s. No temporary file is left behind, unless the process is killed, or
    interrupted just after the exchange displaced another program's version (``_drop_temporary``).
    """
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except OSError as exc:
        return NotWritten(f"cannot write: {_why(exc)}: not fixed")
    if not st.st_mode & _WRITE_BITS or not os.access(target, os.W_OK):
        return NotWritten("read-only file: not fixed")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".oo-jwt-tmp", dir=target.parent)
    except OSError as exc:
        return NotWritten(f"cannot write a temporary file beside it: {_why(exc)}: not fixed")
    temporary = Path(tmp)
    try:
        written = _fill(fd, temporary, data, st)
    except BaseException as exc:  # a full disk; or interrupted (Ctrl-C): no temporary file is left
        _remove(temporary)
        if isinstance(exc, OSError):
            return NotWritten(f"cannot write: {_why(exc)}: not fixed")
        raise
    outcome = _put_in_place(temporary, target, expected, data, written)
    _fsync_dir(target.parent)
    return outcome


def _fill(fd: int, temporary: Path, data: bytes, like: os.stat_result) -> os.stat_result:
    """Write ``data`` to the new file, on disk, with the old file's mode and (where allowed) owner."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(like.st_mode))
        if hasattr(os, "chown"):
            try:
                os.chown(temporary, like.st_uid, like.st_gid)
            except OSError:
                pass  # not allowed to give it away: it stays ours
        return os.fstat(handle.fileno())


def _put_in_place(temporary: Path, target: Path, expected: bytes, data: bytes,
                  written: os.stat_result) -> NotWritten | Replaced:
    """Rename the new file (at ``temporary``) over ``target`` if it still holds ``expected``, and
    look at the old file once more. The temporary name is gone on return (or raising)."""
    try:  # to be compared, never followed (the path is resolved already) nor blocking (a FIFO put there)
        old = os.open(target, READ_FLAGS | NO_FOLLOW)
    except OSError:  # gone, or something that is not a file put in its place
        _remove(temporary)
        return NotWritten(CHANGED, theirs=True)
    try:
        read = os.fstat(old)
    except OSError:
        os.close(old)
        _remove(temporary)
        return NotWritten(CHANGED, theirs=True)
    replaced = Replaced(target, old, read, expected, data, written)
    try:
        if not stat.S_ISREG(read.st_mode) or _read_from_start(old, len(expected) + 1) != expected:
            _remove(temporary)
            replaced.close()
            return NotWritten(CHANGED, theirs=True)
        if not exchange(temporary, target):  # where files cannot be exchanged: a plain rename
            if os.name == "nt":  # Windows renames over no file that is open: the old one is not watched
                replaced.close()
            os.replace(temporary, target)
            failed = replaced.late_write()
            if failed is not None:
                replaced.close()
                return failed
            return replaced
    except OSError as exc:  # the new file is still at ``temporary``
        _remove(temporary)
        replaced.close()
        return NotWritten(f"cannot write: {_why(exc)}: not fixed")
    except BaseException:  # interrupted: maybe just after the exchange, ``temporary`` holding what it displaced
        _drop_temporary(temporary, replaced, written)
        raise
    # exchanged: the fixed text is at the page's path, and ``temporary`` holds what was there
    try:
        displaced = os.lstat(temporary)
        if _same_file(displaced, read) and not _written_since(old, read, expected):
            _remove(temporary)
            return replaced
        # another program wrote the page after fix read it, or saved another file in its place:
        # that one goes back, and the fixed text is dropped
        replaced.close()
        exchange(temporary, target)
        return _drop_ours(temporary, target, written, data)
    except OSError as exc:  # never seen: keep whatever is at the temporary name, and say where
        replaced.close()
        return NotWritten(f"{CHANGED}; cannot tell whether another program's version of it was replaced "
                          f"({_why(exc)}): the file it replaced is kept in {temporary.name}", theirs=True)
    except BaseException:  # interrupted: the old file goes only if it is the one read, unwritten
        _drop_temporary(temporary, replaced, None)
        raise


def _drop_temporary(temporary: Path, replaced: Replaced, ours: os.stat_result | None) -> None:
    """Interrupted (Ctrl-C, SIGTERM) while the fixed text goes in: the file at ``temporary`` is
    removed if it is the fixed text not put in place (``ours``), or the old file as read and
    unwritten since; another program's version of the page, which the exchange displaced, stays
    there (README says what to do with it). The old file is closed."""
    try:
        there = os.lstat(temporary)
        if (ours is not None and _same_file(there, ours)) or (
                _same_file(there, replaced.read) and not _written_since(replaced.old, replaced.read, replaced.expected)):
            _remove(temporary)
    except OSError:
        pass
    replaced.close()


def _put_back(target: Path, theirs: bytes, like: os.stat_result, written: os.stat_result,
              data: bytes) -> NotWritten:
    """Put another program's version of the page (written into the old file after the rename) back
    at the page's path in place of the fixed text."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".oo-jwt-tmp", dir=target.parent)
    except OSError as exc:
        return NotWritten(f"{CHANGED}; the other program's version could not be put back: {_why(exc)}", True)
    temporary = Path(tmp)
    try:
        _fill(fd, temporary, theirs, like)
        exchanged = exchange(temporary, target)
        if not exchanged:
            os.replace(temporary, target)  # (a write to the fixed text in this moment is lost)
    except OSError as exc:
        _remove(temporary)
        return NotWritten(f"{CHANGED}; the other program's version could not be put back: {_why(exc)}", True)
    except BaseException:
        _remove(temporary)
        raise
    return _drop_ours(temporary, target, written, data) if exchanged else NotWritten(CHANGED, theirs=True)


def _drop_ours(temporary: Path, target: Path, written: os.stat_result, data: bytes) -> NotWritten:
    """The fixed text has been moved out to ``temporary``: remove it, unless something was written
    to it meanwhile; then it is kept, under a name the report gives."""
    try:
        ours = os.lstat(temporary)
        untouched = _same_file(ours, written) and (ours.st_size, ours.st_mtime_ns) == (
            written.st_size, written.st_mtime_ns) and read_regular_file(temporary, len(data), follow=False)[0] == data
    except (OSError, NotRead):  # unreadable, or grown past the fixed text: written to
        untouched = False
    if untouched:
        _remove(temporary)
        return NotWritten(CHANGED, theirs=True)
    name = temporary.name
    try:
        fd, kept = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".oo-jwt-conflict", dir=target.parent)
        os.close(fd)
        os.replace(temporary, kept)
        name = Path(kept).name
    except OSError:
        pass  # it stays at its temporary name
    return NotWritten(f"changed on disk while it was being fixed: not fixed; what was written to the fixed "
                      f"text meanwhile is kept in {name}", theirs=True)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _written_since(fd: int, read: os.stat_result, expected: bytes) -> bool:
    """Whether the open old file changed since it was read: its size or modification time moved,
    or (a write within the clock's tick, or a time put back) its bytes differ."""
    now = os.fstat(fd)
    if (now.st_size, now.st_mtime_ns) != (read.st_size, read.st_mtime_ns):
        return True
    return _read_from_start(fd, len(expected) + 1) != expected


def _read_from_start(fd: int, limit: int | None) -> bytes:
    """The file's bytes from its start: ``limit`` of them at most (None: all)."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, size = [], 0
    while limit is None or size < limit:
        chunk = os.read(fd, 1 << 20 if limit is None else min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _why(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


_EXCHANGE_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EINVAL),
                         getattr(errno, "EOPNOTSUPP", errno.EINVAL)}
_renameat2 = None  # libc's renameat2, looked up once; False: there is none


def exchange(a: Path, b: Path) -> bool:
    """Swap two files' names atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False, changing
    nothing, where the system or the file system cannot (another OS, an old kernel, NFS, FUSE).
    Raises ``OSError`` for any other failure."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = _find_renameat2()
    if _renameat2 is False:
        return False
    import ctypes

    if _renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        return True
    code = ctypes.get_errno()
    if code in _EXCHANGE_UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def _find_renameat2():
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, ImportError):
        return False
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fix_paths(paths: Iterable[str], settings: Settings, write: bool, environ=None,
              fill_placeholders: bool = True) -> FixRun:
    """Fix every page under the given files and folders (placeholders too, if ``fill_placeholders``).
    Raises ``NoSecret`` when nothing can sign."""
    secrets = secrets_from_env(settings, environ)
    if not secrets:
        names = sorted({name for names in settings.secret_env.values() for name in names})
        raise NoSecret(f"nothing can be signed without a secret: set {' or '.join(names)} in the environment")
    flows = load_flows(settings.flows_dirs)
    files: list[FileFix] = []
    result = RunResult()
    unsigned: set[str] = set()
    late = LateWrites(settings, flows, secrets)
    try:
        for file, shown, entry in discover_entries(paths, settings):
            result.pages.append(shown)
            note_fail_on(result.fail_on, settings, file, shown)
            if isinstance(entry, Unlistable):  # its pages cannot be found: reported as ``check`` does
                files.append(FileFix(Path(file), shown, findings=[entry.finding(shown)]))
                continue
            files.append(fix_file(Path(file), shown, settings, flows, secrets, write, late, fill_placeholders))
            late.settle(wait=False)
        late.settle(wait=True)
    finally:
        late.close()
    for done in files:
        result.findings.extend(done.findings)
        unsigned |= done.unsigned_roles
    result.notices.extend(run_notices(secrets, unsigned))
    for done in files:
        if done.problem is not None:
            result.notices.append(Notice(Severity.ERROR, f"{done.shown}: {done.problem}"))
    return FixRun(files, result)
