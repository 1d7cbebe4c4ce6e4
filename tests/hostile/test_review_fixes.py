"""Defects a review found in the run, each shown through what a user sees.

- ``fix`` watches the old file of a page it wrote with Linux read leases; a lease broken by
  another program (opening the page's other hard link for writing) sent SIGIO, whose default
  action killed the run (exit 157, no report).
- A reader that goes away (``oo-jwt rules | head -1``, a closed stdout) made ``fix``, ``rules``,
  ``explain``, ``--help`` and ``--version`` exit 2 with "internal error" on stderr.
- ``fix`` reported a folder it cannot list as "not a regular file", not as ``check`` does.
- The bounded, non-blocking read of a regular file was written twice, its flags three times, and
  "may this process fork" twice.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS, conversion_page, unlistable

SECRET = "review-fixes-secret-0123456789-abcdefghijk"  # test only
STALE = jwt.encode({**CONVERSION, "url": "http://example.com/stale.docx"}, SECRET, algorithm="HS256")
FRESH = jwt.encode(CONVERSION, SECRET, algorithm="HS256")
HANG_GUARD = 300  # seconds: only a hang reaches it (a run here takes about one)
PACKAGE = Path(__file__).resolve().parents[2] / "mkdocs_oo_jwt"


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, PYTHONDONTWRITEBYTECODE="1")
    return env


def stale_docs(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "a.md").write_text(conversion_page(STALE), encoding="utf-8")
    return docs


# ------------------------------------------------------------------ 1. a broken lease is no kill

# ``oo-jwt fix docs``, with every read lease fix takes broken at once: right after the kernel grants
# one, this process opens the page's other hard link for writing (non-blocking: the open fails,
# and the kernel still sends the lease-break signal to the lease holder, as for any opener).
BREAK_EVERY_LEASE = r"""
import fcntl, os, sys
from mkdocs_oo_jwt.cli import main
other = sys.argv[1]
granted = fcntl.fcntl
def fcntl_breaking_leases(fd, cmd, arg=0):
    out = granted(fd, cmd, arg)
    if cmd == fcntl.F_SETLEASE and arg == fcntl.F_RDLCK:
        try:
            os.close(os.open(other, os.O_WRONLY | os.O_NONBLOCK))
        except BlockingIOError:
            pass
        print("lease broken", file=sys.stderr)
    return out
fcntl.fcntl = fcntl_breaking_leases
sys.exit(main(["fix", "docs"]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux's")
def test_a_lease_broken_while_fix_watches_a_page_does_not_kill_the_run(tmp_path):
    docs = stale_docs(tmp_path)
    other = tmp_path / "elsewhere.md"
    os.link(docs / "a.md", other)  # the page's other name keeps the old file
    done = subprocess.run([sys.executable, "-c", BREAK_EVERY_LEASE, str(other)], cwd=tmp_path, env=child_env(),
                          capture_output=True, text=True, timeout=HANG_GUARD)
    if "lease broken" not in done.stderr and done.returncode == 1:
        pytest.skip("no read lease was granted here (a file system without leases): nothing to break")
    assert done.returncode == 1, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "fixed docs/a.md: 1 token" in done.stdout
    assert "No problems" in done.stdout or "in 1 page" in done.stdout, done.stdout  # the report, whole
    assert "Traceback" not in done.stderr
    assert FRESH in (docs / "a.md").read_text(encoding="utf-8")
    assert STALE in other.read_text(encoding="utf-8")  # the other name keeps the old text (README)


# ------------------------------------------------------------------ 2. a reader that goes away


def closed_stdout(argv: list[str], cwd: Path) -> tuple[int, str]:
    """The command with a stdout whose reader is gone (``oo-jwt ... | true``): (exit code, stderr)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mkdocs_oo_jwt", *argv], cwd=cwd, env=child_env(),
                                stdout=write, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=HANG_GUARD)
    return proc.returncode, err


def open_stdout(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", *argv], cwd=cwd, env=child_env(),
                          capture_output=True, text=True, timeout=HANG_GUARD)
    return done.returncode, done.stdout, done.stderr


COMMANDS = {
    "fix": (["fix", "docs"], 1),
    "fix --format json": (["fix", "--format", "json", "docs"], 1),
    "fix --diff": (["fix", "--diff", "docs"], 1),
    "check": (["check", "--no-cache", "docs"], 1),
    "rules": (["rules"], 0),
    "explain": (["explain", "docs/a.md"], 0),
    "--help": (["--help"], 0),
    "fix --help": (["fix", "--help"], 0),
    "--version": (["--version"], 0),
}


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe whose reader is gone: POSIX")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_closed_stdout_ends_the_output_not_the_run(tmp_path, command):
    argv, expected = COMMANDS[command]
    docs = stale_docs(tmp_path / "closed")
    stale_docs(tmp_path / "open")
    code, out, open_err = open_stdout(argv, tmp_path / "open")
    assert (code, open_err.count("Traceback")) == (expected, 0), open_err
    assert out, "the command writes something on stdout"
    code, err = closed_stdout(argv, tmp_path / "closed")
    assert code == expected, err
    # stderr says what it says without the pipe (with --diff the report, with --format json the
    # "fixed" lines; else nothing), and no more
    assert err == open_err
    if argv[0] == "fix" and expected == 1 and "--diff" not in argv:  # the pages were fixed all the same
        assert FRESH in (docs / "a.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ 3. fix reports an unlistable folder as check does


@pytest.mark.skipif(sys.platform == "win32", reason="chmod 000 does not make a folder unlistable on Windows")
def test_fix_reports_a_folder_it_cannot_list_as_check_does(tmp_path):
    docs = stale_docs(tmp_path)
    (docs / "locked").mkdir()
    (docs / "locked" / "b.md").write_text(conversion_page(STALE), encoding="utf-8")
    try:
        prefix = unlistable(docs / "locked")
        reports = {}
        for command in ("check", "fix"):
            done = subprocess.run([*prefix, sys.executable, "-m", "mkdocs_oo_jwt", command, "--format", "json", "docs"]
                                  + (["--no-cache"] if command == "check" else []),
                                  cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=HANG_GUARD)
            assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
            reports[command] = json.loads(done.stdout)["findings"]
    finally:
        (docs / "locked").chmod(0o755)
    locked = [f for f in reports["fix"] if f["path"] == "docs/locked"]
    assert locked == [f for f in reports["check"] if f["path"] == "docs/locked"]
    (finding,) = locked
    assert finding["rule"] == "page-unreadable"
    assert finding["message"] == "folder cannot be listed (Permission denied): the pages in it were not checked"
    assert FRESH in (docs / "a.md").read_text(encoding="utf-8")  # the page beside it is fixed


# ------------------------------------------------------------------ 4. each thing written once


def sources() -> dict[str, ast.AST]:
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text(encoding="utf-8"))
            for path in PACKAGE.rglob("*.py")}


def uses(tree: ast.AST, name: str) -> bool:
    return any((isinstance(node, ast.Attribute) and node.attr == name) or (isinstance(node, ast.Constant) and node.value == name)
               for node in ast.walk(tree))


def test_the_bounded_read_its_flags_and_the_fork_test_are_each_written_once():
    """One non-blocking open of a file to read (its flags in one place), and one answer to "may
    this process fork"."""
    trees = sources()
    assert sorted(name for name, tree in trees.items() if uses(tree, "O_NONBLOCK")) == ["run/files.py"]
    assert sorted(name for name, tree in trees.items() if uses(tree, "active_count")) == ["run/forking.py"]
    from mkdocs_oo_jwt.run import cache

    assert not hasattr(cache, "read_capped")
