"""The findings cache: a warm run gives the same report; any change that could change findings
(the page, a schema, the settings, the secret, the tool) starts afresh; the secret is never stored."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jwt
import pytest

from pagekit import CONVERSION_WITH_TOKEN as PAGE

from mkdocs_oo_jwt.cli import main
from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.settings import Settings

SECRET = "oo-jwt-test-secret-0123456789abcdef"


def write_page(folder: Path, url: str = "https://example.com/a.docx", secret: str = SECRET) -> Path:
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": url}, secret, algorithm="HS256")
    page = folder / "docs" / "conversion.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(PAGE.format(token=token), encoding="utf-8")
    return page


def stored(cache: Path) -> dict:
    """What a run reads from the cache folder: its file, and the journal's changes since."""
    from mkdocs_oo_jwt.run.cache import Cache

    read = Cache(cache, json.loads((cache / "findings-v2.json").read_text())["key"])
    read.load()
    return {"stats": read.stats, "entries": read.entries}


def run(folder: Path, cache: Path, **env) -> list[tuple]:
    environ = {"OO_JWT_SECRET": SECRET, **env}
    result = check_paths([str(folder / "docs")], Settings(), environ=environ, cache_dir=cache)
    return [(f.rule, f.location.line, f.message) for f in result.findings]


@pytest.fixture
def tree(tmp_path):
    write_page(tmp_path, url="http://example.com/a.docx")  # one mismatch
    return tmp_path


def test_warm_run_reports_the_same_from_the_cache(tree, monkeypatch):
    cache = tree / ".oo-jwt-cache"
    cold = run(tree, cache)
    assert [r[0] for r in cold] == ["token-payload-mismatch"]
    stored = json.loads((cache / "findings-v2.json").read_text())
    assert len(stored["entries"]) == 1
    # a warm run must not parse anything: make parsing impossible and run again
    import mkdocs_oo_jwt.engine as engine

    monkeypatch.setattr(engine, "check_page", lambda *a, **k: pytest.fail("page checked again"))
    assert run(tree, cache) == cold


def test_a_changed_page_is_checked_again(tree):
    cache = tree / ".oo-jwt-cache"
    assert run(tree, cache)
    write_page(tree)  # the token now matches
    assert run(tree, cache) == []


def test_same_size_and_time_but_new_content_is_read_again(tree):
    """stat() decides whether to re-read: a touched file is re-hashed, and a rewrite that keeps
    size and modification time (set back) is told by the change time, which cannot be set back."""
    cache = tree / ".oo-jwt-cache"
    page = tree / "docs" / "conversion.md"
    first = run(tree, cache)
    stat = page.stat()
    write_page(tree)
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert run(tree, cache) == [] != first
    write_page(tree, url="http://example.com/a.docx")  # as first, same size
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert page.stat().st_size == stat.st_size
    assert run(tree, cache) == first


def test_a_changed_secret_schema_or_setting_starts_afresh(tree, tmp_path):
    cache = tree / ".oo-jwt-cache"
    assert [r[0] for r in run(tree, cache)] == ["token-payload-mismatch"]
    # another secret: the token no longer verifies
    other = run(tree, cache, OO_JWT_SECRET="another-secret-that-is-long-enough-0123")
    assert "token-signature" in [r[0] for r in other]
    # a user flows folder that makes conversion require a field the example lacks
    flows = tmp_path / "flows"
    flows.mkdir()
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "conversion.json").read_text())
    schema["required"] = [*schema["required"], "title"]
    (flows / "conversion.json").write_text(json.dumps(schema))
    result = check_paths([str(tree / "docs")], Settings(flows_dirs=(flows,)), environ={"OO_JWT_SECRET": SECRET}, cache_dir=cache)
    assert "schema" in [f.rule for f in result.findings]
    # a rule turned off
    result = check_paths([str(tree / "docs")], Settings(disable=frozenset({"token-payload-mismatch"})),
                         environ={"OO_JWT_SECRET": SECRET}, cache_dir=cache)
    assert result.findings == []


def test_the_cache_never_holds_the_secret(tree):
    cache = tree / ".oo-jwt-cache"
    run(tree, cache)
    for file in cache.iterdir():
        assert SECRET.encode() not in file.read_bytes()
    assert (cache / ".gitignore").read_text() == "*\n"


def test_no_cache_writes_nothing(tree, monkeypatch, capsys):
    monkeypatch.chdir(tree)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    assert main(["check", "--no-cache", "docs"]) == 1
    assert not (tree / ".oo-jwt-cache").exists()
    assert main(["check", "--cache-dir", "elsewhere", "docs"]) == 1
    assert (tree / "elsewhere" / "findings-v2.json").is_file()
    assert "token-payload-mismatch" in capsys.readouterr().out


def test_tokens_with_exp_are_not_cached(tmp_path, monkeypatch):
    import mkdocs_oo_jwt.settings as settings_module

    page = tmp_path / "docs" / "p.md"
    page.parent.mkdir()
    token = jwt.encode({"key": "k", "status": 2, "exp": 4_000_000_000}, SECRET, algorithm="HS256")
    page.write_text(f'# Callback\n\nSample of request to "callbackUrl" address:\n\n```json\n{{"key": "k", "status": 2}}\n```\n\nSample token\n\n```\n{token}\n```\n')
    cache = tmp_path / "c"
    env = {"OO_JWT_SECRET": SECRET}
    monkeypatch.setattr(settings_module.time, "time", lambda: 3_000_000_000)
    assert check_paths([str(tmp_path / "docs")], Settings(), environ=env, cache_dir=cache).findings == []
    monkeypatch.setattr(settings_module.time, "time", lambda: 5_000_000_000)  # the clock passed exp
    rules = [f.rule for f in check_paths([str(tmp_path / "docs")], Settings(), environ=env, cache_dir=cache).findings]
    assert rules == ["token-expired"]


def test_a_page_with_nothing_to_check_is_noted_not_read_again_until_it_changes(tree, monkeypatch):
    clock_ahead(monkeypatch, 60)  # the pages are older than a tick: trusted by their stamp
    cache = tree / ".oo-jwt-cache"
    prose = tree / "docs" / "about.md"
    prose.write_text("# About\n\nNothing to check here.\n", encoding="utf-8")
    cold = run(tree, cache)
    stored = json.loads((cache / "findings-v2.json").read_text())
    assert len(stored["entries"]) == 1  # the conversion page's findings; the prose page has none to keep
    assert stored["stats"][str(prose)].split(" ")[1] == ""  # noted as holding nothing to check: "stamp hash racy"
    from mkdocs_oo_jwt.run import pipeline

    with monkeypatch.context() as m:
        m.setattr(pipeline, "read_bytes", lambda *a: pytest.fail("an unchanged page was read again"))
        assert run(tree, cache) == cold
    # the page now holds a stale token under an example: it is read and checked
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "http://old"}, SECRET, algorithm="HS256")
    prose.write_text(PAGE.format(token=token), encoding="utf-8")
    assert [(r[0], r[1]) for r in run(tree, cache)] == [("token-payload-mismatch", 12)] * 2  # about.md, then conversion.md


# ------------------------------------------------------------------ stamps: racily clean, device and inode
#
# A stamp cannot tell a rewrite of the same size that keeps the modification time: on a file
# system with 1-2 s timestamps (ext4 with 128-byte inodes, ext3, HFS+, FAT) any rewrite within the
# tick does, and its change time is in the same tick too. Here (nanosecond times) that file system
# is simulated: the stamp sees no change time (as on Windows, where it is the creation time), and
# the test sets the modification time back to what it was, to the nanosecond. The real thing, on a
# loop-mounted ``mkfs.ext4 -I 128``, is in tests/hostile/test_cache_attack.py (root only).

HTTPS_A, HTTPS_B = "https://example.com/a.docx", "https://example.com/b.docx"  # same length: same page size


def no_change_time(monkeypatch) -> None:
    """Stamps as a file system that keeps no change time a rewrite would move."""
    from mkdocs_oo_jwt.run import files, pipeline

    real = files.stamp_of

    def stamp(stat):
        return real(stat).rsplit(":", 1)[0] + ":0"

    monkeypatch.setattr(files, "stamp_of", stamp)
    monkeypatch.setattr(pipeline, "stamp_of", stamp)


def clock_ahead(monkeypatch, seconds: int) -> None:
    """The runs happen ``seconds`` later than the pages were written (as a run the next minute)."""
    import time

    real = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real() + seconds * 1_000_000_000)


def rewrite_keeping_stamp(folder: Path, url: str) -> None:
    page = folder / "docs" / "conversion.md"
    before = page.stat()
    write_page(folder, url=url)
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert page.stat().st_size == before.st_size and page.stat().st_mtime_ns == before.st_mtime_ns


def test_a_page_rewritten_within_the_tick_it_was_read_in_is_read_again(tmp_path, monkeypatch):
    """Racily clean (as git's index says): a page whose times are not older than the run that read
    it, by a tick, is verified by its content the next time, not trusted by its stamp."""
    no_change_time(monkeypatch)
    cache = tmp_path / ".oo-jwt-cache"
    write_page(tmp_path, url=HTTPS_B)
    assert [r[0] for r in run(tmp_path, cache)] == ["token-payload-mismatch"]
    rewrite_keeping_stamp(tmp_path, HTTPS_A)  # fixed, same size, same second
    assert run(tmp_path, cache) == []
    rewrite_keeping_stamp(tmp_path, HTTPS_B)  # broken again
    assert [r[0] for r in run(tmp_path, cache)] == ["token-payload-mismatch"]


def test_an_unchanged_page_older_than_a_tick_is_trusted_by_its_stamp(tree, monkeypatch):
    """The warm path stays a stat: once a run has seen a page's times more than a tick old, the
    next run does not read it (the run that saw it racily clean read it once more, to verify)."""
    from mkdocs_oo_jwt.run import pipeline

    cache = tree / ".oo-jwt-cache"
    cold = run(tree, cache)  # the page was just written: racily clean
    clock_ahead(monkeypatch, 60)
    reads = []
    real = pipeline.read_bytes
    monkeypatch.setattr(pipeline, "read_bytes", lambda *a: reads.append(a[0]) or real(*a))
    assert run(tree, cache) == cold
    assert len(reads) == 1  # verified by content, once
    monkeypatch.setattr(pipeline, "read_bytes", lambda *a: pytest.fail("an unchanged page was read again"))
    assert run(tree, cache) == cold


def test_a_path_that_now_leads_to_another_file_is_read_again(tmp_path, monkeypatch):
    """A symlink switched outside the walked tree (``current -> releases/B``): same path, same
    size, same times; another device or inode."""
    no_change_time(monkeypatch)
    clock_ahead(monkeypatch, 60)
    a, b = tmp_path / "releases" / "A", tmp_path / "releases" / "B"
    write_page(a, url=HTTPS_B)
    write_page(b, url=HTTPS_A)
    mtime = (a / "docs" / "conversion.md").stat().st_mtime_ns
    os.utime(b / "docs" / "conversion.md", ns=(mtime, mtime))
    current = tmp_path / "current"
    current.symlink_to(a)
    cache = tmp_path / "cache"
    assert [r[0] for r in run(current, cache)] == ["token-payload-mismatch"]
    (tmp_path / "next").symlink_to(b)
    os.replace(tmp_path / "next", current)
    assert run(current, cache) == []


def test_two_checkouts_sharing_one_cache_folder_do_not_answer_for_each_other(tmp_path, monkeypatch):
    no_change_time(monkeypatch)
    clock_ahead(monkeypatch, 60)
    a, b = tmp_path / "a", tmp_path / "b"
    write_page(a, url=HTTPS_B)
    write_page(b, url=HTTPS_A)
    mtime = (a / "docs" / "conversion.md").stat().st_mtime_ns
    os.utime(b / "docs" / "conversion.md", ns=(mtime, mtime))
    cache = tmp_path / "shared-cache"
    results = []
    for checkout in (a, b, a):
        monkeypatch.chdir(checkout)
        result = check_paths(["docs"], Settings(), environ={"OO_JWT_SECRET": SECRET}, cache_dir=cache)
        results.append([f.rule for f in result.findings])
    assert results == [["token-payload-mismatch"], [], ["token-payload-mismatch"]]


def test_a_package_added_to_a_folder_on_the_python_path_starts_afresh(tree, monkeypatch):
    """Installed packages are wherever Python imports from (site-packages, the user's site,
    PYTHONPATH, folders .pth files add), not only the venv's site-packages."""
    import mkdocs_oo_jwt.engine as engine

    extra = tree / "pythonpath"
    extra.mkdir()
    import sys

    # where PYTHONPATH=pythonpath puts it (or the user's site, for pip install --user): after the
    # script's folder, which is the project's and not stamped
    monkeypatch.setattr(sys, "path", [sys.path[0], str(extra), *sys.path[1:]])
    cache = tree / ".oo-jwt-cache"
    cold = run(tree, cache)
    (extra / "markdown_it_py-9.9.dist-info").mkdir()  # pip install --target pythonpath markdown-it-py
    checked = []
    real = engine.check_page
    monkeypatch.setattr(engine, "check_page", lambda page, *a, **k: checked.append(page) or real(page, *a, **k))
    assert run(tree, cache) == cold
    assert len(checked) == 1  # checked again, not taken from the cache


# ------------------------------------------------------------------ pruning


def test_the_cache_forgets_pages_gone_from_the_folders_a_run_walked(tmp_path, monkeypatch):
    """Stats of pages under the run's folders that the run did not see (deleted, renamed,
    excluded) are dropped, and findings no page refers to any more; pages of other folders (another
    run's) are kept. A warm run that changed nothing does not rewrite the file."""
    clock_ahead(monkeypatch, 60)
    cache = tmp_path / "cache"
    write_page(tmp_path / "one", url=HTTPS_B)
    write_page(tmp_path / "two", url="http://example.com/c.docx")
    (tmp_path / "one" / "docs" / "conversion.md").rename(tmp_path / "one" / "docs" / "old.md")
    write_page(tmp_path / "one", url="http://example.com/d.docx")
    run(tmp_path / "one", cache)
    run(tmp_path / "two", cache)
    state = stored(cache)
    assert len(state["stats"]) == 3 and len(state["entries"]) == 3
    (tmp_path / "one" / "docs" / "old.md").unlink()
    run(tmp_path / "one", cache)
    state = stored(cache)
    assert sorted(state["stats"]) == [str(tmp_path / "one" / "docs" / "conversion.md"),
                                      str(tmp_path / "two" / "docs" / "conversion.md")]
    assert len(state["entries"]) == 2  # old.md's findings went with it
    files = [(p.name, p.stat().st_ino, p.stat().st_size) for p in sorted(cache.iterdir())]
    run(tmp_path / "one", cache)
    run(tmp_path / "two", cache)
    assert [(p.name, p.stat().st_ino, p.stat().st_size) for p in sorted(cache.iterdir())] == files  # nothing changed: nothing written


def test_the_current_folder_on_the_python_path_is_not_part_of_the_tool(tree, monkeypatch):
    """``python -m`` puts the current folder first on the path: the cache folder made there (or
    any file of the project) must not start the cache afresh."""
    import sys

    import mkdocs_oo_jwt.engine as engine

    monkeypatch.chdir(tree)
    monkeypatch.setattr(sys, "path", [str(tree), *sys.path])
    cold = run(tree, tree / ".oo-jwt-cache")  # made in the current folder
    (tree / "notes.txt").write_text("a new file of the project\n")
    monkeypatch.setattr(engine, "check_page", lambda *a, **k: pytest.fail("page checked again"))
    assert run(tree, tree / ".oo-jwt-cache") == cold


def test_a_temporary_file_a_killed_run_left_is_removed_later(tree, monkeypatch):
    cache = tree / ".oo-jwt-cache"
    cache.mkdir()
    old, fresh = cache / ".findings-killed.tmp", cache / ".findings-writing.tmp"
    old.write_text("half")
    fresh.write_text("half")
    two_hours_ago = os.stat(old).st_mtime_ns - 7200 * 1_000_000_000
    os.utime(old, ns=(two_hours_ago, two_hours_ago))
    run(tree, cache)
    assert not old.exists()
    assert fresh.exists()  # may be another run's, writing now


def _warm(tree: Path, cache: Path, jobs: int = 2) -> list[tuple]:
    result = check_paths([str(tree / "docs")], Settings(), environ={"OO_JWT_SECRET": SECRET}, cache_dir=cache, jobs=jobs)
    return [(f.rule, f.location.line, f.message) for f in result.findings]


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_a_warm_run_checks_a_changed_page_in_the_standby_checker(tree, monkeypatch):
    """A warm run forks a checker at its start, which imports while the run looks at the pages,
    and checks the pages found changed: the same findings as a check in process."""
    import mkdocs_oo_jwt.engine as engine

    cache = tree / ".oo-jwt-cache"
    assert [r[0] for r in _warm(tree, cache)] == ["token-payload-mismatch"]
    write_page(tree)  # the token now matches
    (tree / "docs" / "other.md").write_text(PAGE.format(token="eyJhbGciOiJIUzI1NiJ9.e30.x"), encoding="utf-8")
    main_pid, where = os.getpid(), tree / "checked-in"
    check_page = engine.check_page

    def marked(*args, **kwargs):
        (where.parent / f"{where.name}-{'main' if os.getpid() == main_pid else 'child'}").touch()
        return check_page(*args, **kwargs)

    monkeypatch.setattr(engine, "check_page", marked)
    warm = _warm(tree, cache)
    assert (tree / "checked-in-child").exists() and not (tree / "checked-in-main").exists()
    assert warm == _warm(tree, cache, jobs=1) == run(tree, tree / "other-cache")
    assert [r[0] for r in warm] == ["token-malformed"]
    assert _no_child_left()


def test_a_standby_checker_that_dies_costs_only_time(tree, monkeypatch):
    from mkdocs_oo_jwt.run import checker

    cache = tree / ".oo-jwt-cache"
    _warm(tree, cache)
    write_page(tree)
    main_pid = os.getpid()

    def dies(flows):
        if os.getpid() != main_pid:
            os._exit(9)

    monkeypatch.setattr(checker, "load_checking", dies)
    assert _warm(tree, cache) == []  # checked here instead
    assert _no_child_left()


def test_a_warm_run_with_nothing_changed_leaves_no_process(tree):
    cache = tree / ".oo-jwt-cache"
    cold = _warm(tree, cache)
    assert _warm(tree, cache) == cold
    assert _no_child_left()


def test_a_cache_file_of_another_run_makes_a_cold_run_and_leaves_no_process(tree, monkeypatch):
    """A cache file makes a warm run likely (a checker is put on standby before it is loaded);
    one written for other settings is not this run's: the run is cold, the standby checker gone."""
    cache = tree / ".oo-jwt-cache"
    cold = _warm(tree, cache)
    other = check_paths([str(tree / "docs")], Settings(fail_on="warning"), environ={"OO_JWT_SECRET": SECRET},
                        cache_dir=cache, jobs=2)
    assert [(f.rule, f.location.line, f.message) for f in other.findings] == cold
    assert _no_child_left()


def test_a_page_moved_to_another_folder_is_checked_there(tmp_path):
    """A page's place is evidence of its flows: the same bytes in another folder can have other
    findings, so the cache does not answer for them (a copy, or a `git mv`)."""
    page = """# Version

Request:

```json
{"c": "versio"}
```
"""
    docs = tmp_path / "docs"
    (docs / "misc").mkdir(parents=True)
    (docs / "misc" / "page.md").write_text(page, encoding="utf-8")
    cache = tmp_path / ".oo-jwt-cache"

    def findings():
        result = check_paths([str(docs)], Settings(), environ={}, cache_dir=cache, jobs=1)
        return [(f.path.replace(os.sep, "/").split("docs/")[-1], f.rule) for f in result.findings]

    def cold():
        result = check_paths([str(docs)], Settings(), environ={}, jobs=1)
        return [(f.path.replace(os.sep, "/").split("docs/")[-1], f.rule) for f in result.findings]

    assert findings() == cold()
    (docs / "command-service").mkdir()
    os.rename(docs / "misc" / "page.md", docs / "command-service" / "version.md")
    assert cold() and findings() == cold()  # the command's schema, now that the page says where it is
    (docs / "misc" / "page.md").write_text(page, encoding="utf-8")  # and a copy back where it was
    assert findings() == cold()


# ------------------------------------------------------------------ the checker forked before the settings


def _cli_check(tree: Path, *argv: str) -> int:
    try:
        return main(["check", "--format", "json", "--cache-dir", str(tree / ".oo-jwt-cache"), *argv,
                     str(tree / "docs")])
    except SystemExit as exc:  # argparse
        return exc.code if isinstance(exc.code, int) else 2


def test_a_warm_check_adopts_the_checker_forked_before_its_settings(tree, monkeypatch, capsys):
    """`oo-jwt check` with a cache file to load forks its standby checker before it reads its
    arguments and settings; the run sends it the settings (here pyproject's `disable`), and it reads
    the secret from the environment itself: a page it checks gets the findings a cold run gives."""
    import mkdocs_oo_jwt.engine as engine

    monkeypatch.chdir(tree)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    (tree / "pyproject.toml").write_text('[tool.oo-jwt]\ndisable = ["token-unpaired"]\n')
    assert _cli_check(tree) == 1  # the mismatch; the cache written
    capsys.readouterr()
    # now signed with another secret over the right url: its signature is wrong for this run's secret
    write_page(tree, secret="another-servers-secret-0123456789abcdef")
    (tree / "docs" / "lone.md").write_text("# Conversion\n\nSample token: " + jwt.encode(
        {"c": "info", "key": "k"}, SECRET, algorithm="HS256") + "\n", encoding="utf-8")
    main_pid, where = os.getpid(), tree / "checked-in"
    check_page = engine.check_page

    def marked(*args, **kwargs):
        (where.parent / f"{where.name}-{'main' if os.getpid() == main_pid else 'child'}").touch()
        return check_page(*args, **kwargs)

    from mkdocs_oo_jwt.run import standby

    adopted = []
    adopt = standby.Standby.adopt

    def adopting(standby, settings):
        adopted.append(settings.disable)
        return adopt(standby, settings)

    monkeypatch.setattr(engine, "check_page", marked)
    monkeypatch.setattr(standby.Standby, "adopt", adopting)
    assert _cli_check(tree) == 1
    warm = json.loads(capsys.readouterr().out)["findings"]
    assert adopted == [frozenset({"token-unpaired"})]  # the early checker was given the settings
    assert (tree / "checked-in-child").exists() and not (tree / "checked-in-main").exists()
    assert _no_child_left()
    monkeypatch.undo()
    monkeypatch.chdir(tree)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    assert _cli_check(tree, "--no-cache") == 1
    cold = json.loads(capsys.readouterr().out)["findings"]
    assert warm == cold
    assert "token-signature" in {f["rule"] for f in warm} and "token-unpaired" not in {f["rule"] for f in warm}


def test_a_run_given_an_environment_of_its_own_does_not_adopt_the_early_checker(tree, monkeypatch):
    """The early checker reads the secrets from the environment it inherited; a run whose secrets
    come from another (check_paths' environ) checks with its own, in a checker of its own."""
    from mkdocs_oo_jwt.run import standby

    cache = tree / ".oo-jwt-cache"
    _warm(tree, cache)
    write_page(tree)  # signed with SECRET, the url now right
    monkeypatch.setenv("OO_JWT_SECRET", "not-the-runs-secret-0123456789abcdef")
    standby.standby_early()
    assert _warm(tree, cache) == []  # with environ's SECRET: the signature verifies
    assert _no_child_left()


def test_a_usage_error_ends_the_early_checker(tree, monkeypatch):
    monkeypatch.chdir(tree)
    cache = tree / ".oo-jwt-cache"
    _warm(tree, cache)
    assert _cli_check(tree, "--fail-on", "nonsense") == 2
    (tree / "pyproject.toml").write_text('[tool.oo-jwt]\nfail_on = "nonsense"\n')
    assert _cli_check(tree) == 2
    assert _no_child_left()


def test_a_cache_folder_that_cannot_be_written_is_said_not_failed(tmp_path, capsys):
    """--cache-dir naming a file (or a folder the run may not write): the run checks and passes as
    it would, and one note says the cache was not written (it used to say nothing: every next run
    was cold without a word)."""
    write_page(tmp_path)  # a page with no finding
    (tmp_path / "not-a-folder").write_text("x")
    code = main(["check", "--cache-dir", str(tmp_path / "not-a-folder"), str(tmp_path / "docs")])
    out = capsys.readouterr().out
    assert code == 0
    assert f"note: the cache could not be written in {tmp_path / 'not-a-folder'}" in out
    assert out.splitlines()[-1].startswith("no problems in 1 page")


# ------------------------------------------------------------------ the journal


def _journal(cache: Path) -> Path:
    return cache / "findings-v2.journal"


def _no_check(monkeypatch) -> None:
    import mkdocs_oo_jwt.engine as engine

    monkeypatch.setattr(engine, "check_page", lambda *a, **k: pytest.fail("page checked again"))


def test_a_run_that_changed_a_page_appends_to_the_journal_which_the_next_run_reads(tree, monkeypatch):
    """The file is not written whole for one page: its bytes stay, the journal gets one line, and
    the next run answers for the page from it (no page checked)."""
    clock_ahead(monkeypatch, 60)
    cache = tree / ".oo-jwt-cache"
    assert [r[0] for r in run(tree, cache)] == ["token-payload-mismatch"]
    written = (cache / "findings-v2.json").read_bytes()
    write_page(tree)  # the token now matches
    assert run(tree, cache) == []
    assert (cache / "findings-v2.json").read_bytes() == written
    assert _journal(cache).read_text().count("\n{") == 1
    _no_check(monkeypatch)
    assert run(tree, cache) == []


def test_a_line_a_killed_run_left_torn_loses_no_later_change(tree, monkeypatch):
    clock_ahead(monkeypatch, 60)
    cache = tree / ".oo-jwt-cache"
    run(tree, cache)
    key = json.loads((cache / "findings-v2.json").read_text())["key"]
    _journal(cache).write_text('\n{"key":' + json.dumps(key) + ',"id":"', encoding="ascii")  # cut short
    write_page(tree)
    assert run(tree, cache) == []
    _no_check(monkeypatch)
    assert run(tree, cache) == []


def test_the_file_is_written_whole_again_every_few_runs_and_a_journal_left_behind_is_no_change(tree, monkeypatch):
    from mkdocs_oo_jwt.run import cache as cache_module

    clock_ahead(monkeypatch, 60)
    monkeypatch.setattr(cache_module, "JOURNAL_LINES", 2)
    cache = tree / ".oo-jwt-cache"
    page = tree / "docs" / "conversion.md"
    run(tree, cache)
    write_page(tree)
    run(tree, cache)  # journal line 1
    left = _journal(cache).read_bytes()
    write_page(tree, url="http://example.com/a.docx")
    run(tree, cache)  # journal line 2
    write_page(tree, url="http://example.com/b.docx")
    assert [r[0] for r in run(tree, cache)] == ["token-payload-mismatch"]  # the third: the file whole, no journal
    assert not _journal(cache).exists()
    state = json.loads((cache / "findings-v2.json").read_text())
    _journal(cache).write_bytes(left)  # a journal of the file before (a concurrent run's, a failed removal)
    assert stored(cache)["stats"] == state["stats"]
    assert state["stats"][str(page)].split(" ")[0].split(":")[2] == str(page.stat().st_size)
    _no_check(monkeypatch)
    assert [r[0] for r in run(tree, cache)] == ["token-payload-mismatch"]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_a_journal_that_is_a_link_is_neither_read_nor_written_through(tree, monkeypatch):
    clock_ahead(monkeypatch, 60)
    cache = tree / ".oo-jwt-cache"
    run(tree, cache)
    target = tree / "elsewhere.txt"
    target.write_text("not the cache's\n", encoding="utf-8")
    _journal(cache).symlink_to(target)
    write_page(tree)
    assert run(tree, cache) == []  # the file written whole instead, the link removed with its journal
    assert target.read_text(encoding="utf-8") == "not the cache's\n"
    assert not _journal(cache).is_symlink()
    _no_check(monkeypatch)
    assert run(tree, cache) == []


def test_a_journal_too_large_to_read_is_replaced_not_grown(tree, monkeypatch):
    """A journal over its limit is not read (its runs' pages are checked again), and the next save
    writes the file whole and removes it, instead of appending to it for ever."""
    from mkdocs_oo_jwt.run import cache as cache_module

    clock_ahead(monkeypatch, 60)
    cache = tree / ".oo-jwt-cache"
    run(tree, cache)
    write_page(tree)
    run(tree, cache)
    with _journal(cache).open("ab") as journal:  # past its limit (lines of another file, say)
        journal.write(b"\n" * (cache_module.MAX_JOURNAL_BYTES + 1))
    write_page(tree, url="http://example.com/a.docx")
    assert [r[0] for r in run(tree, cache)] == ["token-payload-mismatch"]
    assert not _journal(cache).exists()
