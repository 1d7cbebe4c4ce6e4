"""The last run's record: the same `oo-jwt check` from the same folder over an unchanged tree
prints what it printed and exits as it exited, without checking a page; any change of a page, a
folder, the config, a schema, a secret, the arguments or the tool makes a fresh run; a run whose
output could depend on more (the clock, an unreadable page, a mkdocs.yml, stamps too fresh to
trust) is not recorded; the record never holds a secret."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import jwt
import pytest

from mkdocs_oo_jwt import engine, replay
from mkdocs_oo_jwt.cli import main

SECRET = "oo-jwt-test-secret-0123456789abcdef"
RECORD = Path(".oo-jwt-cache") / replay.RECORD
PAYLOAD = {"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx"}
PAGE = """# Conversion

Sample parameters of request to convert the document:

```json
{example}
```

Sample token

```
{token}
```
"""


def conversion_page(signed: dict, secret: str = SECRET) -> str:
    return PAGE.format(example=json.dumps(PAYLOAD), token=jwt.encode(signed, secret, algorithm="HS256"))


def age(*paths: Path, seconds: int = 60) -> None:
    """These files and folders last changed a minute ago: stamps old enough to be recorded (one from
    the last two seconds is not trusted). Their change times are new: only what is named is aged."""
    past = time.time() - seconds
    for path in paths:
        os.utime(path, (past, past))


def age_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        age(Path(folder), *(Path(folder) / name for name in files))


@pytest.fixture
def site(tmp_path, monkeypatch):
    """docs/ with a stale token (one finding) and a page with nothing to check, aged; cwd there."""
    docs = tmp_path / "docs"
    (docs / "api").mkdir(parents=True)
    (docs / "api" / "conversion.md").write_text(conversion_page({**PAYLOAD, "url": "http://example.com/a.docx"}), encoding="utf-8")
    (docs / "index.md").write_text("# Home\n", encoding="utf-8")
    age_tree(docs)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def no_check(monkeypatch) -> None:
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: pytest.fail("the pages were checked"))


@pytest.mark.parametrize("args", [["docs"], ["--format", "json", "docs"], ["docs/api/conversion.md", "docs/index.md"]])
def test_the_same_check_over_an_unchanged_tree_prints_the_same_without_checking(site, capsys, monkeypatch, args):
    code, out = run(capsys, *args)
    assert code == 1 and "token-payload-mismatch" in out
    assert RECORD.is_file()
    with monkeypatch.context() as m:
        no_check(m)
        assert run(capsys, *args) == (code, out)
        assert run(capsys, *args) == (code, out)


def test_a_clean_tree_is_answered_with_its_exit_code(site, capsys, monkeypatch):
    (site / "docs" / "api" / "conversion.md").write_text(conversion_page(PAYLOAD), encoding="utf-8")
    age(site / "docs" / "api" / "conversion.md")
    first = run(capsys, "docs")
    assert first[0] == 0
    no_check(monkeypatch)
    assert run(capsys, "docs") == first


def _edit(site: Path) -> None:
    (site / "docs" / "api" / "conversion.md").write_text(conversion_page(PAYLOAD), encoding="utf-8")
    age(site / "docs" / "api" / "conversion.md")


def _same_size_and_time(site: Path) -> None:
    # same length, same modification time: only the change time (which utime cannot set back) tells
    page = site / "docs" / "api" / "conversion.md"
    stat = page.stat()
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace('"key": "k1"', '"key": "k2"', 1), encoding="utf-8")
    assert page.stat().st_size == stat.st_size and page.read_text(encoding="utf-8") != text
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _add(site: Path) -> None:
    (site / "docs" / "api" / "more.md").write_text(conversion_page({**PAYLOAD, "key": "other"}), encoding="utf-8")
    age(site / "docs" / "api" / "more.md", site / "docs" / "api")


def _remove(site: Path) -> None:
    (site / "docs" / "api" / "conversion.md").unlink()
    age(site / "docs" / "api")


def _rename(site: Path) -> None:
    (site / "docs" / "api" / "conversion.md").rename(site / "docs" / "api" / "converting.md")
    age(site / "docs" / "api")


def _hide(site: Path) -> None:  # a folder the walk skips: the folder it is in changed, nothing else
    (site / "docs" / ".drafts").mkdir()
    age(site / "docs", site / "docs" / ".drafts")


def _config(site: Path) -> None:
    (site / "pyproject.toml").write_text('[tool.oo-jwt]\ndisable = ["token-payload-mismatch"]\n', encoding="utf-8")
    age(site / "pyproject.toml")


def _secret(site: Path) -> None:
    os.environ["OO_JWT_SECRET"] = "another-secret-that-is-long-enough-0123"


def _tool(site: Path) -> None:
    replay.tool_stamp = lambda: "another version of the tool"  # undone by monkeypatch below


CHANGES = {  # what to change, and what the fresh run's output says then
    "edit": (_edit, lambda out, first: "token-payload-mismatch" not in out),
    "same size and time": (_same_size_and_time, lambda out, first: "/key" in out and out != first),
    "add": (_add, lambda out, first: "more.md" in out),
    "remove": (_remove, lambda out, first: "conversion.md" not in out),
    "rename": (_rename, lambda out, first: "converting.md" in out),
    "hidden folder": (_hide, lambda out, first: out == first),
    "config": (_config, lambda out, first: "token-payload-mismatch" not in out),
    "secret": (_secret, lambda out, first: "token-signature" in out),
    "tool": (_tool, lambda out, first: out == first),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_makes_a_fresh_run(site, capsys, monkeypatch, change):
    monkeypatch.setattr(replay, "tool_stamp", replay.tool_stamp)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    first = run(capsys, "docs")
    assert RECORD.is_file()
    make, holds = CHANGES[change]
    make(site)
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    code, out = run(capsys, "docs")
    assert checked == [1]
    assert holds(out, first[1]), out
    # and the fresh run is recorded in its turn
    assert run(capsys, "docs") == (code, out) and checked == [1]


@pytest.mark.parametrize("other", [["--format", "json", "docs"], ["docs/"], ["--fail-on", "never", "docs"], ["--jobs", "1", "docs"]])
def test_other_arguments_make_a_fresh_run(site, capsys, monkeypatch, other):
    run(capsys, "docs")
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    run(capsys, *other)
    assert checked == [1]


def test_the_same_arguments_from_another_folder_make_a_fresh_run(site, capsys, monkeypatch):
    args = ["--cache-dir", str(site / "cache"), str(site / "docs")]
    first = run(capsys, *args)
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    assert run(capsys, *args) == first and checked == []
    (site / "elsewhere").mkdir()
    monkeypatch.chdir(site / "elsewhere")
    assert run(capsys, *args) == first and checked == [1]


def test_a_terminal_is_not_answered_with_what_a_pipe_got(site, capsys):
    run(capsys, "docs")

    class Terminal:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    assert replay.answer(["check", "docs"], Terminal()) is None
    pipe = Terminal()
    pipe.isatty = lambda: False
    assert replay.answer(["check", "docs"], pipe) == 1 and "token-payload-mismatch" in pipe.text


def test_fresh_stamps_are_not_recorded_and_an_older_record_goes(site, capsys):
    run(capsys, "docs")
    assert RECORD.is_file()
    (site / "docs" / "index.md").write_text("# Home, edited now\n", encoding="utf-8")  # not aged
    run(capsys, "docs")
    assert not RECORD.exists()  # an edit in the same clock tick could follow unseen


def test_a_clock_dependent_run_is_not_recorded(site, capsys):
    token = jwt.encode({"key": "k", "status": 2, "exp": 4_000_000_000}, SECRET, algorithm="HS256")
    (site / "docs" / "callback.md").write_text(
        f'# Callback\n\nSample of request to "callbackUrl" address:\n\n```json\n{{"key": "k", "status": 2}}\n```\n\nSample token\n\n```\n{token}\n```\n',
        encoding="utf-8",
    )
    age(site / "docs", site / "docs" / "callback.md")
    run(capsys, "docs")
    assert not RECORD.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_run_with_an_unreadable_page_is_not_recorded(site, capsys):
    os.mkfifo(site / "docs" / "pipe.md")
    age(site / "docs", site / "docs" / "pipe.md")
    code, out = run(capsys, "docs")
    assert "page-unreadable" in out
    assert not RECORD.exists()


def test_settings_from_mkdocs_yml_are_not_recorded(site, capsys):
    (site / "mkdocs.yml").write_text("site_name: s\nplugins:\n  - oo-jwt\n", encoding="utf-8")
    age(site / "mkdocs.yml")
    run(capsys, "--config", "mkdocs.yml", "docs")
    assert not RECORD.exists()


def test_a_torn_or_foreign_record_is_no_record(site, capsys):
    first = run(capsys, "docs")
    whole = RECORD.read_bytes()
    line, _, packed = whole.partition(b"\n")
    record = json.loads(line)
    torn = [b"", b"{", b"[]", b'{"invocation": 1}', whole[: len(whole) // 2], whole[:-1], line, whole + b"\0" * 8]
    record["output"] = 3
    torn.append(json.dumps(record).encode() + b"\n" + packed)
    for data in torn:
        RECORD.write_bytes(data)
        assert run(capsys, "docs") == first
        assert RECORD.read_bytes() != data  # and a good one is written in its place


def test_no_cache_reads_no_record(site, capsys, monkeypatch):
    first = run(capsys, "docs")
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    assert run(capsys, "--no-cache", "docs") == first and checked == [1]


def test_the_record_never_holds_a_secret(site, capsys):
    run(capsys, "docs")
    text = RECORD.read_bytes()
    assert SECRET.encode() not in text
    assert SECRET.encode().hex().encode() not in text


def test_half_the_stamps_come_from_a_forked_child_and_its_half_is_seen_to_change(site, capsys, monkeypatch):
    for n in range(40):
        (site / "docs" / f"p{n:02}.md").write_text(f"# Page {n}\n", encoding="utf-8")
    age_tree(site / "docs")
    monkeypatch.setattr(replay, "SPLIT_AT", 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    first = run(capsys, "docs")
    forks.clear()
    with monkeypatch.context() as m:
        no_check(m)
        assert run(capsys, "docs") == first
    assert forks == [1]  # the answer's: half its stamps came from a child
    last = site / "docs" / "p39.md"  # in the child's half
    stat = last.stat()
    last.write_text("# Page 3X\n", encoding="utf-8")
    os.utime(last, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    run(capsys, "docs")
    assert checked == [1]


def test_no_fork_for_the_stamps_while_other_threads_run(site, capsys, monkeypatch):
    for n in range(10):
        (site / "docs" / f"p{n}.md").write_text(f"# Page {n}\n", encoding="utf-8")
    age_tree(site / "docs")
    run(capsys, "docs")
    monkeypatch.setattr(replay, "SPLIT_AT", 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # it would fork here, but for the thread
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked while another thread runs"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        no_check(monkeypatch)
        assert run(capsys, "docs")[0] == 1
    finally:
        stop.set()
        other.join()


def test_a_secret_variable_that_is_not_text_is_no_traceback_and_its_change_is_seen(site, capsys, monkeypatch):
    for role in ("INBOX", "OUTBOX", "BROWSER"):  # each role's own variable: OO_JWT_SECRET is never read
        monkeypatch.setenv(f"OO_JWT_SECRET_{role}", SECRET)
    monkeypatch.setenv("OO_JWT_SECRET", "\udcff")  # bytes that are not UTF-8, as os.environ holds them
    first = run(capsys, "docs")
    assert "token-payload-mismatch" in first[1] and RECORD.is_file()
    monkeypatch.setenv("OO_JWT_SECRET", "\udcfe")
    checked = []
    real = engine.check_paths
    monkeypatch.setattr(engine, "check_paths", lambda *a, **k: checked.append(1) or real(*a, **k))
    assert run(capsys, "docs") == first and checked == [1]
