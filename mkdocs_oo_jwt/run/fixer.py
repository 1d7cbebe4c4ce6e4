"""``oo-jwt fix``: put freshly signed tokens in place of stale ones, in the source files.

Only the characters of each stale token change; every other byte of the file is kept (line
endings, BOM, trailing spaces, tabs). The engine decides what to re-sign (``PageReport.fixes``),
``fixes.apply`` splices, and this module writes: a temporary file in the same folder, fsync, then
``os.replace``, keeping the file's mode and writing a symlink through to its target. A read-only
file, or one that changed on disk since it was read, is left alone and reported. Nothing here
prints; the command (cli.py) decides where the text goes.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..engine import PageReport, check_page
from ..fixes import OverlappingFixes, apply
from ..flows import FlowRegistry, load_flows
from ..model import Finding, Fix, Notice, RunResult, Severity
from ..page import Page
from ..settings import Secret, Settings, secrets_from_env
from .checking import run_notices
from .files import internal_error, read_page
from .walk import discover

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
    findings: list[Finding] = field(default_factory=list)  # of the fixed text (or the read problem)
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
) -> FileFix:
    """Fix one page: re-sign its stale tokens, re-check the result, and write it if ``write``."""
    out = FileFix(Path(path), shown)
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
    try:
        new_text = apply(page.text, report.fixes)
    except OverlappingFixes as exc:  # an engine bug: change nothing, say so
        out.new_text, out.findings, out.unsigned_roles = page.text, report.findings, report.unsigned_roles
        out.problem = f"not fixed: {exc}"
        return out
    out.new_text = new_text
    if new_text == page.text:
        out.findings, out.unsigned_roles = report.findings, report.unsigned_roles
        return out
    out.fixes = sorted(set(report.fixes), key=lambda f: f.span.start)
    try:
        after: PageReport = check_page(Page(shown, new_text, page.bom), settings, flows, dict(secrets))
    except Exception as exc:  # noqa: BLE001
        out.new_text, out.fixes, out.findings = page.text, [], [internal_error(shown, exc)]
        return out
    out.findings, out.unsigned_roles = after.findings, after.unsigned_roles
    if write:
        out.problem = write_atomic(out.path, page.encode(), page.encode(new_text))
        out.written = out.problem is None
    return out


def write_atomic(path: Path, expected: bytes, data: bytes) -> str | None:
    """Replace the file's bytes ``expected`` with ``data``; the reason it was not written, or None.

    The file is written through a symlink to its target, keeps its mode (and owner where
    allowed), and is left alone if it is read-only or no longer holds ``expected``.
    """
    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc.__class__.__name__}"
    if not st.st_mode & _WRITE_BITS or not os.access(target, os.W_OK):
        return "read-only file: not fixed"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".oo-jwt-tmp", dir=target.parent)
    except OSError as exc:
        return f"cannot write a temporary file beside it: {exc.strerror or exc.__class__.__name__}: not fixed"
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown"):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass  # not allowed to give it away: it stays ours
        try:
            now = target.stat()
            current = target.read_bytes() if (now.st_size, now.st_mtime_ns) == (st.st_size, st.st_mtime_ns) else None
        except OSError:
            current = None
        if current != expected:
            os.unlink(tmp)
            return "changed on disk while it was being fixed: not fixed (run again)"
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return f"cannot write: {exc.strerror or exc.__class__.__name__}: not fixed"
    _fsync_dir(target.parent)
    return None


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


def fix_paths(paths: Iterable[str], settings: Settings, write: bool, environ=None) -> FixRun:
    """Fix every page under the given files and folders. Raises ``NoSecret`` when nothing can sign."""
    secrets = secrets_from_env(settings, environ)
    if not secrets:
        names = sorted({name for names in settings.secret_env.values() for name in names})
        raise NoSecret(f"nothing can be signed without a secret: set {' or '.join(names)} in the environment")
    flows = load_flows(settings.flows_dirs)
    files: list[FileFix] = []
    result = RunResult()
    unsigned: set[str] = set()
    for file, shown in discover(paths, settings):
        result.pages.append(shown)
        done = fix_file(Path(file), shown, settings, flows, secrets, write)
        files.append(done)
        result.findings.extend(done.findings)
        unsigned |= done.unsigned_roles
    result.notices.extend(run_notices(secrets, unsigned))
    for done in files:
        if done.problem is not None:
            result.notices.append(Notice(Severity.ERROR, f"{done.shown}: {done.problem}"))
    return FixRun(files, result)
