"""Review of the checker forked before the settings are read (``standby.standby_early``): it
checks with the secrets the run checks with, or it is not used; and a signal that comes in while a
child is being forked leaves no child behind, also when the run was started from Python."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import jwt
import pytest

from pagekit import CONVERSION_WITH_TOKEN as PAGE

from mkdocs_oo_jwt.cli import main
from mkdocs_oo_jwt.run import standby
from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.run.forking import fork_is_safe
from mkdocs_oo_jwt.settings import Settings

FORKS = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                           reason="the checkers are forked only where fork exists and there is more than one core")
SECRET = "the-runs-secret-0123456789abcdef-0123"
OTHER = "not-the-runs-secret-0123456789abcdef-99"
BOUND = 20.0  # seconds: only guards a hang


def _page(tree: Path, url: str, secret: str = SECRET) -> None:
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": url}, secret, algorithm="HS256")
    (tree / "docs").mkdir(exist_ok=True)
    (tree / "docs" / "conversion.md").write_text(PAGE.format(token=token), encoding="utf-8")


def _findings(tree: Path, cache: Path | None) -> list[tuple]:
    result = check_paths([str(tree / "docs")], Settings(), cache_dir=cache, jobs=2)
    return [(f.rule, f.location.line, f.message) for f in result.findings]


def _gone(pid: int) -> bool:
    """Whether the child ``pid`` has ended (reaped here if it has), waiting up to BOUND."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            return True
        time.sleep(0.05)
    return False


@FORKS
def test_an_early_checker_whose_environment_no_longer_holds_the_runs_secret_is_not_used(tmp_path, monkeypatch):
    """The early checker reads the secrets from the environment it inherited when it was forked;
    a run whose environment has changed since (``check_paths`` from Python, its secret set after
    ``standby_early``) must not have its page checked with the old secret, nor that answer cached."""
    cache = tmp_path / ".oo-jwt-cache"
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    _page(tmp_path, "http://example.com/a.docx")
    assert [f[0] for f in _findings(tmp_path, cache)] == ["token-payload-mismatch"]  # the cache written
    _page(tmp_path, "https://example.com/a.docx")  # now right, signed with the run's secret
    monkeypatch.setenv("OO_JWT_SECRET", OTHER)
    standby.standby_early()  # forked while the environment held another secret
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    try:
        assert _findings(tmp_path, cache) == [] == _findings(tmp_path, None)
        assert _findings(tmp_path, cache) == []  # and no wrong answer was kept
    finally:
        standby.drop_standby_early()


@FORKS
def test_an_early_checker_given_the_same_secrets_through_environ_is_used(tmp_path, monkeypatch):
    """``check_paths(environ=...)`` holding the secrets the early checker would read: it checks."""
    import mkdocs_oo_jwt.engine as engine

    cache = tmp_path / ".oo-jwt-cache"
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    _page(tmp_path, "http://example.com/a.docx")
    _findings(tmp_path, cache)
    _page(tmp_path, "https://example.com/a.docx", secret=OTHER)
    main_pid, check_page = os.getpid(), engine.check_page

    def marked(*args, **kwargs):
        (tmp_path / f"checked-in-{'main' if os.getpid() == main_pid else os.getpid()}").touch()
        return check_page(*args, **kwargs)

    monkeypatch.setattr(engine, "check_page", marked)
    standby.standby_early()
    early = standby._EARLY.pid  # noqa: SLF001 - which child checks is what this test is about
    try:
        result = check_paths([str(tmp_path / "docs")], Settings(), environ={"OO_JWT_SECRET": SECRET}, cache_dir=cache,
                             jobs=2)
    finally:
        standby.drop_standby_early()
    assert [f.rule for f in result.findings] == ["token-signature"]
    assert sorted(p.name for p in tmp_path.glob("checked-in-*")) == [f"checked-in-{early}"]


def _signalled_fork(monkeypatch, sig: int) -> list[int]:
    """``os.fork`` that sends ``sig`` to this thread right after its first fork (the signals are
    held then: it comes in as the fork's block ends). The child's pid is noted."""
    forked: list[int] = []
    fork = os.fork

    def signalling_fork() -> int:
        pid = fork()
        if pid and not forked:
            forked.append(pid)
            signal.pthread_kill(threading.get_ident(), sig)
        return pid

    monkeypatch.setattr(os, "fork", signalling_fork)
    return forked


def _skip_unless_signals_are_ours(sig: int) -> None:
    if not fork_is_safe():
        pytest.skip("another thread runs in this test process: the run forks nothing")
    if not hasattr(signal, "pthread_sigmask"):
        pytest.skip("no pthread_sigmask: signals are not held around a fork here")
    if sig == signal.SIGTERM and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner here")


@FORKS
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_the_early_checker_is_forked_leaves_no_child(tmp_path, monkeypatch, capsys, sig, code):
    """A warm `oo-jwt check` run from Python (``main``), stopped by a signal that came while its
    early checker was being forked: one line, 128 + the signal, and that checker ended, not left
    waiting for settings that never come."""
    _skip_unless_signals_are_ours(sig)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    _page(tmp_path, "http://example.com/a.docx")
    assert main(["check", "docs"]) == 1  # .oo-jwt-cache written
    _page(tmp_path, "https://example.com/a.docx")
    capsys.readouterr()
    forked = _signalled_fork(monkeypatch, sig)
    try:
        assert main(["check", "docs"]) == code
        assert forked, "no checker was forked"
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert _gone(forked[0]), "the early checker outlived the run"
    finally:
        _kill(forked)



def _kill(pids: list[int]) -> None:
    """What a failed test may have left: killed and reaped (never another test's problem)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass

@FORKS
def test_a_signal_while_the_looker_is_forked_leaves_no_child(tmp_path, monkeypatch, capsys):
    """The same for a cold run's looker, with more to send than its pipe holds (pages to check
    travel with their bytes): it must not be left blocked on a pipe no one reads."""
    _skip_unless_signals_are_ours(signal.SIGTERM)
    docs = tmp_path / "docs"
    docs.mkdir()
    token = jwt.encode({"c": "info", "key": "k"}, SECRET, algorithm="HS256")
    filler = ("Some text of the page, long enough to fill a pipe. " * 20 + "\n\n") * 600  # ~600 kB
    for i in range(4):
        (docs / f"big-{i}.md").write_text(f"# Big {i}\n\nSample token: {token}\n\n{filler}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    forked = _signalled_fork(monkeypatch, signal.SIGTERM)
    try:
        assert main(["check", "--no-cache", "--jobs", "2", "docs"]) == 143
        assert forked, "no looker was forked"
        assert _gone(forked[0]), "the looker outlived the run"
    finally:
        _kill(forked)


CONFIGS = {
    "pyproject.toml": '[tool.oo-jwt]\nsecret_env = {inbox = ["MY_INBOX"]}\n',
    "mkdocs.yml": "site_name: t\nplugins:\n  - oo-jwt:\n      secrets:\n        inbox: !ENV [MY_INBOX, null]\n",
}


@FORKS
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_early_checker_reads_the_variable_the_configuration_names(tmp_path, monkeypatch, capsys, config):
    """A token that verifies only with the secret of the variable the configuration names (not
    with OO_JWT_SECRET): checked by the early checker, the report is the --no-cache one, byte for byte."""
    import mkdocs_oo_jwt.engine as engine

    (tmp_path / config).write_text(CONFIGS[config], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MY_INBOX", SECRET)
    monkeypatch.setenv("OO_JWT_SECRET", OTHER)
    monkeypatch.delenv("OO_JWT_SECRET_INBOX", raising=False)
    argv = ["check", "--config", config, "--format", "json", "docs"]
    _page(tmp_path, "http://example.com/a.docx")
    assert main(argv) == 1
    _page(tmp_path, "https://example.com/a.docx")  # right now, and signed with MY_INBOX's secret
    capsys.readouterr()
    main_pid, check_page, adopt = os.getpid(), engine.check_page, standby.Standby.adopt
    adopted: list[int] = []

    def marked(*args, **kwargs):
        (tmp_path / f"checked-in-{'main' if os.getpid() == main_pid else os.getpid()}").touch()
        return check_page(*args, **kwargs)

    def adopting(standby, settings):
        adopted.append(standby.pid)
        return adopt(standby, settings)

    monkeypatch.setattr(engine, "check_page", marked)
    monkeypatch.setattr(standby.Standby, "adopt", adopting)
    assert main(argv) == 0
    warm = capsys.readouterr().out
    assert len(adopted) == 1 and sorted(p.name for p in tmp_path.glob("checked-in-*")) == [f"checked-in-{adopted[0]}"]
    assert main([*argv, "--no-cache"]) == 0
    assert warm == capsys.readouterr().out
    assert json.loads(warm)["findings"] == []  # no token-signature: the configured variable's secret


@FORKS
def test_settings_the_early_checker_cannot_be_sent_are_checked_by_a_checker_of_the_run(tmp_path, monkeypatch):
    """Settings made in Python may hold what pickle refuses (``secret_env`` as a read-only
    mapping): the early checker is ended and the run checks as without it, no exception, no child left."""
    from types import MappingProxyType

    settings = Settings(secret_env=MappingProxyType({"inbox": ("OO_JWT_SECRET",)}))
    cache = tmp_path / ".oo-jwt-cache"
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)

    def findings(cache_dir):
        result = check_paths([str(tmp_path / "docs")], settings, cache_dir=cache_dir, jobs=2)
        return [(f.rule, f.location.line, f.message) for f in result.findings]

    _page(tmp_path, "http://example.com/a.docx")
    findings(cache)
    _page(tmp_path, "https://example.com/a.docx", secret=OTHER)
    standby.standby_early()
    early = standby._EARLY
    try:
        assert [f[0] for f in findings(cache)] == ["token-signature"]
        assert early is None or _gone(early.pid)
    finally:
        standby.drop_standby_early()
        if early is not None:
            early.close()
