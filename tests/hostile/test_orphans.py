"""No orphans: the processes a run forks (the looker and the checkers of ``oo-jwt check``, the
plugin's background checker) die with the process that forked them, however it ends. A wrapper
with a timeout (``subprocess.run(timeout=...)``), a CI runner or an IDE ends the command with
SIGTERM or SIGKILL; a user at a terminal with Ctrl-C (SIGINT to the whole process group).

Each test starts a real run on a tree big enough to fork checkers, waits (bounded) until they are
there, signals the main process, and then waits (bounded) until none of them is alive.
Linux only: the children are found through /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds child processes through /proc (Linux)")

SEEDS = Path(__file__).resolve().parent.parent / "pages" / "seeds"
BOUND = 20.0  # seconds: only guards a hang
SECRET_VARS = ("OO_JWT_SECRET", "OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


def _pages(folder: Path, copies: int) -> None:
    """``copies`` of every seed page: each holds samples, so each is parsed and checked."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in sorted(SEEDS.glob("*.md")):
        text = seed.read_bytes()
        for i in range(copies):
            (folder / f"{seed.stem}-{i}.md").write_bytes(text)


def _state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a process; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), fields[0]


def _alive(pid: int) -> bool:
    state = _state(pid)
    return state is not None and state[1] not in ("Z", "X")  # a zombie has ended (none reaps it)


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            state = _state(int(entry))
            if state is not None and state[1] not in ("Z", "X"):
                parents[int(entry)] = state[0]
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _wait_for_children(proc: subprocess.Popen, count: int) -> set[int]:
    """The descendants of ``proc`` once there are ``count`` of them (bounded wait)."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.skip("the run ended before its workers could be seen: a faster machine needs a bigger tree")
        children = _descendants(proc.pid)
        if len(children) >= count:
            return children
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no {count} worker processes appeared within {BOUND} s")


def _still_alive_after_bound(pids: set[int]) -> set[int]:
    deadline = time.monotonic() + BOUND
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        time.sleep(0.05)
    return alive


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("orphans")
    _pages(root / "docs", 120)  # 600 pages to check: seconds of work on two cores
    return root


def _start_check(tree: Path, tmp_path: Path) -> subprocess.Popen:
    # stderr to a file, not a pipe: an orphan holding the pipe would keep a reader waiting forever
    # its own session: a SIGINT to its group reaches it and its workers (as Ctrl-C at a terminal), not pytest
    with open(tmp_path / "stderr", "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "mkdocs_oo_jwt", "check", "--jobs", "2", "--cache-dir", str(tmp_path / "cache"), "docs"],
            cwd=tree, env=_env(), stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_checkers_die_with_the_check(tree, tmp_path, sig):
    proc = _start_check(tree, tmp_path)
    workers = _wait_for_children(proc, 2)  # the pool's two checkers (and the looker while it looks)
    try:
        proc.send_signal(sig)
        proc.wait(timeout=BOUND)
        alive = _still_alive_after_bound(workers)
    finally:
        _kill_all(workers)
    assert not alive, f"{len(alive)} of {len(workers)} forked processes outlived the command killed by {sig.name}"
    if sig == signal.SIGTERM:  # shuts the pool down and exits 128 + 15, saying so in one line
        err = (tmp_path / "stderr").read_text()
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert not list(tree.rglob("*.tmp")) and not list((tmp_path / "cache").rglob("*.tmp"))


def test_ctrl_c_exits_130_with_one_line_and_leaves_nothing(tree, tmp_path):
    proc = _start_check(tree, tmp_path)
    workers = _wait_for_children(proc, 2)
    try:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
        proc.wait(timeout=BOUND)
        alive = _still_alive_after_bound(workers)
    finally:
        _kill_all(workers)
    text = (tmp_path / "stderr").read_text()
    assert proc.returncode == 130, text
    assert text.count("\n") == 1 and "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert not alive
    assert not list(tree.rglob("*.tmp")) and not list((tmp_path / "cache").rglob("*.tmp"))


def test_the_plugins_background_checker_dies_with_the_build(tmp_path):
    if shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists():
        pytest.skip("needs mkdocs")
    site = tmp_path / "site"
    _pages(site / "docs", 60)  # 300 pages: the background checker is still at work when the build is ended
    (site / "mkdocs.yml").write_text("site_name: Orphans\nplugins:\n  - oo-jwt\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(tmp_path / "out")], cwd=site,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    checker = _wait_for_children(proc, 1)
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=BOUND)
        alive = _still_alive_after_bound(checker)
    finally:
        _kill_all(checker)
    assert not alive, "the background checker outlived `mkdocs build` ended by SIGTERM"


# ------------------------------------------------------------------ however the command ends
# 1 means "findings found": a run that did not finish must never exit with it.


class _Panic(BaseException):
    """Like pyo3's PanicException: a BaseException that escapes every ``except Exception``."""


@pytest.mark.parametrize("raised", [RuntimeError("quoting sk-not-to-be-shown"), _Panic("sk-not-to-be-shown")],
                         ids=["Exception", "BaseException"])
def test_an_unexpected_exception_is_one_line_and_exit_2_never_1(tmp_path, monkeypatch, capsys, raised):
    from mkdocs_oo_jwt.cli import main
    from mkdocs_oo_jwt.run import checking

    def broken(*args, **kwargs):
        raise raised

    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checking, "check_paths", broken)
    assert main(["check", "--no-cache", "docs"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"oo-jwt: internal error: {raised.__class__.__name__} at ") and "Traceback" not in err
    assert "sk-not-to-be-shown" not in err  # the exception's text may quote a page or a secret: never shown
