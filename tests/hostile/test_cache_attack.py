"""The findings cache under attack: what a repository can commit in its cache folder, a cache
edited by hand, a full disk, and a file system whose timestamps are too coarse for a stamp.

A repository can commit ``.oo-jwt-cache/`` (git stores symlinks and any bytes): its files are a
wrong answer only if they carry the run's key, which nobody can forge (it holds the tool's stamp,
with inode numbers and nanosecond times of its install, and the secrets' fingerprints); what they
can do is block a run (a FIFO), take all its memory (a link to ``/dev/zero``, a huge file) or write
through a link. Each case runs the real command in a subprocess, with a memory limit and a hang
guard, and the report must be the right one, with no traceback and no temporary file left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION_WITH_TOKEN as PAGE, SECRET_VARS

from mkdocs_oo_jwt.run.checking import check_paths, exit_code
from mkdocs_oo_jwt.settings import Settings

SECRET = "cache-attack-secret-0123456789-abcdefghijk"  # test only
CACHE_FILE = "findings-v2.json"
MEMORY_LIMIT = 1 << 30  # a run needs a fraction of it; reading /dev/zero would take it all
HANG_GUARD = 60  # seconds: only a hang reaches it (a run here takes about one)


def write_page(docs: Path, name: str, url: str) -> Path:
    """A conversion page whose token signs ``url``: clean for a.docx, a mismatch for b.docx (same size)."""
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": url}, SECRET, algorithm="HS256")
    docs.mkdir(parents=True, exist_ok=True)
    page = docs / name
    page.write_text(PAGE.format(token=token), encoding="utf-8")
    return page


CLEAN, BROKEN = "https://example.com/a.docx", "https://example.com/b.docx"


def tree(tmp_path: Path) -> Path:
    write_page(tmp_path / "docs", "clean.md", CLEAN)
    write_page(tmp_path / "docs", "broken.md", BROKEN)
    return tmp_path


def _limits(memory: int | None, file_size: int | None):
    def apply() -> None:
        import resource

        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return apply


def check_command(cwd: Path, *args: str, memory: int | None = MEMORY_LIMIT, file_size: int | None = None):
    """``oo-jwt check --format json docs`` in a subprocess (the default cache folder), with limits;
    None if it hung."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, PYTHONDONTWRITEBYTECODE="1")
    code = "import sys; from mkdocs_oo_jwt.cli import main; sys.exit(main(sys.argv[1:]))"
    try:
        return subprocess.run([sys.executable, "-c", code, "check", "--format", "json", *args, "docs"], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=HANG_GUARD,
                              preexec_fn=_limits(memory, file_size))
    except subprocess.TimeoutExpired:
        return None


def assert_right_report(done) -> None:
    assert done is not None, "the run hung"
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert {(Path(f["path"]).name, f["rule"]) for f in report["findings"]} == {("broken.md", "token-payload-mismatch")}


def temporary_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp")) if folder.is_dir() else []


# ------------------------------------------------------------------ what a repository can commit


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _huge(path: Path) -> None:
    with open(path, "wb") as out:  # sparse: no disk taken, 4 GiB to read
        out.truncate(4 << 30)


def _folder(path: Path) -> None:
    path.mkdir()


def _link_to_a_cache(path: Path) -> None:
    path.symlink_to(path.parent / "elsewhere.json")
    path.with_name("elsewhere.json").write_text('{"key": "x", "entries": {}, "stats": {}}')


PLANTED = {"a link to /dev/zero": _dev_zero, "a FIFO": _fifo, "a sparse 4 GiB file": _huge,
           "a folder": _folder, "a link to a file": _link_to_a_cache}


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs POSIX FIFOs and /dev/zero")
@pytest.mark.parametrize("what", PLANTED)
def test_a_cache_file_a_repository_committed_is_never_a_hang_or_a_crash(tmp_path, what):
    """A fresh clone with ``.oo-jwt-cache/findings-v2.json`` as each of these: the run reads it with
    O_NOFOLLOW|O_NONBLOCK, sees it is not a regular file of a sane size, and starts afresh."""
    tree(tmp_path)
    folder = tmp_path / ".oo-jwt-cache"
    folder.mkdir()
    PLANTED[what](folder / CACHE_FILE)
    done = check_command(tmp_path)
    assert_right_report(done)
    assert temporary_files(folder) == []
    assert_right_report(check_command(tmp_path))  # and again, warm (or afresh again): the same


def test_a_link_in_the_cache_folder_is_not_written_through(tmp_path):
    """``.oo-jwt-cache/.gitignore`` committed as a dangling link: the run must not create its target."""
    tree(tmp_path)
    folder = tmp_path / ".oo-jwt-cache"
    folder.mkdir()
    (folder / ".gitignore").symlink_to(tmp_path / "planted-target")
    assert_right_report(check_command(tmp_path))
    assert not (tmp_path / "planted-target").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links to folders")
@pytest.mark.parametrize("target", [".", "../outside"], ids=["the-checkout", "outside-it"])
def test_a_committed_link_as_the_cache_folder_is_not_followed(tmp_path, target):
    """A repository can commit ``.oo-jwt-cache -> .`` (or a path out of the checkout): the run
    writes nothing through it (no ``.gitignore`` of ``*``, which would hide new files from ``git
    status``, no cache file), says so in one line, and reports as it does without a cache."""
    checkout, outside = tmp_path / "checkout", tmp_path / "outside"
    tree(checkout)
    outside.mkdir()
    (checkout / ".oo-jwt-cache").symlink_to(target)
    before = {folder: sorted(os.listdir(folder)) for folder in (checkout, outside)}
    for _ in range(2):
        done = check_command(checkout)
        assert_right_report(done)
        assert {folder: sorted(os.listdir(folder)) for folder in before} == before
        assert done.stderr.startswith("oo-jwt: warning: the cache folder .oo-jwt-cache is a symbolic link")
        assert done.stderr.count("\n") == 1, done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links to folders")
def test_a_cache_folder_named_with_cache_dir_is_followed_and_gets_no_gitignore(tmp_path):
    """``--cache-dir`` naming a link (to a tmpfs, say): the user means it, the cache goes there;
    but no ``.gitignore`` is made through the link (its target is not the checkout's)."""
    tree(tmp_path)
    fast = tmp_path / "fast"
    fast.mkdir()
    (tmp_path / "cache-link").symlink_to(fast)
    for _ in range(2):  # cold, then warm from the linked folder
        done = check_command(tmp_path, "--cache-dir", "cache-link")
        assert_right_report(done)
        assert done.stderr == ""
        assert sorted(os.listdir(fast))[0] == CACHE_FILE and ".gitignore" not in os.listdir(fast)  # (and its journal)
    assert sorted(os.listdir(tmp_path)) == ["cache-link", "docs", "fast"]


# ------------------------------------------------------------------ a cache edited by hand


def _every_entry(value):
    def mutate(data: dict) -> None:
        for content_hash in data["entries"]:
            data["entries"][content_hash] = value(data["entries"][content_hash])
    return mutate


def _every_finding(value):
    def mutate(data: dict) -> None:
        for entry in data["entries"].values():
            entry["findings"] = [value(f) for f in entry["findings"]]
    return mutate


def _every_stat(value):
    def mutate(data: dict) -> None:
        for path in data["stats"]:
            data["stats"][path] = value(data["stats"][path])
    return mutate


def _set(key, value):
    def mutate(data: dict) -> None:
        data[key] = value
    return mutate


WRONG_SHAPES = {
    "entries a list": _set("entries", []),
    "stats a string": _set("stats", "x"),
    "an entry a string": _every_entry(lambda e: "x"),
    "an entry without findings": _every_entry(lambda e: {"unsigned": []}),
    "findings a number": _every_entry(lambda e: {**e, "findings": 3}),
    "unsigned numbers": _every_entry(lambda e: {**e, "unsigned": [1, 2]}),
    "a finding too short": _every_finding(lambda f: f[:3]),
    "a line as text": _every_finding(lambda f: [*f[:2], "nine", *f[3:]]),
    "an unknown severity": _every_finding(lambda f: [f[0], 7, *f[2:]]),
    "a message as a list": _every_finding(lambda f: [*f[:6], ["x"], *f[7:]]),
    "a backwards span": _every_finding(lambda f: [*f[:9], [9, 2]]),
    "a stat a string": _every_stat(lambda s: "x"),
    "a stat's hash a list": _every_stat(lambda s: [*s[:-2], ["x"], s[-1]]),
    "a stat with a hash of nothing": _every_stat(lambda s: [*s[:-2], {"a": 1}, s[-1]]),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_a_cache_with_the_right_key_and_wrong_shapes_is_discarded(tmp_path, monkeypatch, shape):
    """Edited by hand (or by another tool): what does not have the shape this version writes is no
    entry; the page is checked again, the report is right, and nothing raises."""
    real = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real() + 60_000_000_000)  # the pages are old: trusted by stat
    tree(tmp_path)
    cache = tmp_path / "cache"
    environ = {"OO_JWT_SECRET": SECRET}

    def findings():
        result = check_paths([str(tmp_path / "docs")], Settings(), environ=environ, cache_dir=cache, jobs=1)
        return [(Path(f.path).name, f.rule, f.location.line, f.message) for f in result.findings]

    cold = findings()
    assert [f[:2] for f in cold] == [("broken.md", "token-payload-mismatch")]
    data = json.loads((cache / CACHE_FILE).read_text())
    WRONG_SHAPES[shape](data)
    (cache / CACHE_FILE).write_text(json.dumps(data))
    assert findings() == cold
    assert findings() == cold


def test_a_deeply_nested_cache_is_discarded(tmp_path):
    """A cache file whose first bytes are not this run's key is not parsed at all (a JSON nest
    deeper than the parser's recursion, or a small file that unpacks to gigabytes of objects)."""
    tree(tmp_path)
    folder = tmp_path / ".oo-jwt-cache"
    folder.mkdir()
    (folder / CACHE_FILE).write_text("[" * 200_000 + "]" * 200_000)
    assert_right_report(check_command(tmp_path))


# ------------------------------------------------------------------ a full disk


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics are Linux's here")
def test_a_cache_write_that_fails_leaves_no_temporary_file(tmp_path):
    """A file size limit (RLIMIT_FSIZE, as ulimit -f) makes the cache's write fail half way, as a
    full disk does: the report is still right and the half-written temporary file is removed."""
    tree(tmp_path)
    done = check_command(tmp_path, file_size=64)
    assert_right_report(done)
    assert temporary_files(tmp_path / ".oo-jwt-cache") == []


def _mount(*args: str) -> str | None:
    """None if it mounted, else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to mount a file system"
    if shutil.which("mount") is None:
        return "no mount command"
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if done.returncode == 0 else f"mount failed: {done.stderr.strip()[:200]}"


def _umount(point: Path) -> None:
    if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs holding a cache folder (with its .gitignore), then filled to the last byte."""
    point = tmp_path / "small"
    point.mkdir()
    why = _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(point))
    if why:
        pytest.skip(why)
    try:
        cache = point / "cache"
        cache.mkdir()
        (cache / ".gitignore").write_text("*\n")
        filler = os.open(point / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filler, b"\0" * 4096)
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(filler)
        yield cache
    finally:
        _umount(point)


def test_a_cache_write_on_a_full_disk_leaves_no_temporary_file(tmp_path, full_disk):
    tree(tmp_path)
    result = check_paths([str(tmp_path / "docs")], Settings(), environ={"OO_JWT_SECRET": SECRET},
                         cache_dir=full_disk, jobs=1)
    assert [(Path(f.path).name, f.rule) for f in result.findings] == [("broken.md", "token-payload-mismatch")]
    assert temporary_files(full_disk) == []


# ------------------------------------------------------------------ coarse timestamps, for real


@pytest.fixture
def ext4_128(tmp_path):
    """A loop-mounted ext4 with 128-byte inodes: timestamps in whole seconds."""
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("no mkfs.ext4")
    image, point = tmp_path / "ext4.img", tmp_path / "ext4"
    point.mkdir()
    with open(image, "wb") as out:
        out.truncate(16 << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()[:200]}")
    why = _mount("-o", "loop", str(image), str(point))
    if why:
        pytest.skip(why)
    try:
        yield point
    finally:
        _umount(point)


def test_a_page_rewritten_in_the_same_second_on_ext4_with_128_byte_inodes(tmp_path, ext4_128):
    """Issue 13, item 1, as reproduced: a page fixed, checked (exit 0), broken again with the same
    size in the same second: the next run must say so (exit 1), not answer from the cache."""
    docs = ext4_128 / "docs"
    cache = tmp_path / "cache"
    environ = {"OO_JWT_SECRET": SECRET}

    def check() -> int:
        result = check_paths([str(docs)], Settings(), environ=environ, cache_dir=cache, jobs=1)
        return exit_code(result, "error")

    write_page(tmp_path / "warm-up", "page.md", CLEAN)  # imports done before the timed part
    check_paths([str(tmp_path / "warm-up")], Settings(), environ=environ, cache_dir=None, jobs=1)
    for _ in range(5):  # a busy machine may cross a second boundary: try again
        time.sleep(1 - time.time() % 1 + 0.01)  # just after a second starts
        page = write_page(docs, "page.md", CLEAN)
        assert page.stat().st_mtime_ns % 1_000_000_000 == 0  # whole seconds: the file system is coarse
        before = page.stat()
        assert check() == 0
        write_page(docs, "page.md", BROKEN)
        after = page.stat()
        if (after.st_mtime_ns, after.st_ctime_ns, after.st_size) == (before.st_mtime_ns, before.st_ctime_ns, before.st_size):
            break
        shutil.rmtree(cache)
    else:
        pytest.skip("could not rewrite the page within the second it was checked in (a busy machine)")
    assert check() == 1
    assert check() == 1  # and on: the answer does not go stale later either
