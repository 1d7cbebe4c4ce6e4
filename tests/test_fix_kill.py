"""Nothing is lost: ``oo-jwt fix`` killed mid-run leaves every page wholly old or wholly new.

The kill test runs ``fix`` in a subprocess over 300 pages, each with a stale token (LF, CRLF, BOM
variants), polls until some pages have been replaced, SIGKILLs it, and compares every page's bytes
with its two known versions (built here, the new token made with PyJWT). No page may be truncated or
mixed, and no temporary file that looks like a page may be left. A second run finishes the job.

Also: a failing write (disk full, a rename refused) leaves the page and no temporary file; a page
edited meanwhile with its size and mtime kept is still detected; modes and symlink chains are kept.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS, conversion_page

from mkdocs_oo_jwt.cli import main

SECRET = "kill-test-secret-0123456789-abcdefghijklmn"  # 42 bytes, test only
PAGE_SUFFIXES = (".md", ".markdown", ".mdx")
N_PAGES = 300
PADDING = ("Some prose about the conversion request, long enough to make every write take a while. " * 12 + "\n\n") * 40


def conversion(i: int) -> dict:
    return {
        "filetype": "docx",
        "key": f"Khirz6zTPdfd7-{i:04d}",
        "outputtype": "pdf",
        "title": f"Document {i}.docx",
        "url": f"https://example.com/document-{i}.docx",
    }


def page_text(i: int, token: str) -> str:
    return conversion_page(token, conversion(i), f"Page {i}", f"\n{PADDING}")


def page_bytes(i: int, token: str) -> bytes:
    text = page_text(i, token)
    if i % 4 in (1, 3):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if i % 4 in (2, 3) else data


def versions(i: int) -> tuple[bytes, bytes]:
    """(the page with its stale token, the page as fix must write it)."""
    stale = jwt.encode({**conversion(i), "url": "http://example.com/stale.docx"}, SECRET, algorithm="HS256")
    fresh = jwt.encode(conversion(i), SECRET, algorithm="HS256")
    return page_bytes(i, stale), page_bytes(i, fresh)


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = SECRET
    return env


FIX = "import sys; from mkdocs_oo_jwt.cli import main; sys.exit(main(sys.argv[1:]))"


def make_docs(root: Path) -> tuple[Path, dict[str, tuple[bytes, bytes]]]:
    docs = root / "docs"
    docs.mkdir()
    known = {}
    for i in range(N_PAGES):
        old, new = versions(i)
        name = f"p{i:03d}.md"
        (docs / name).write_bytes(old)
        known[name] = (old, new)
    return docs, known


def replaced(docs: Path, before: dict[str, tuple[int, int]]) -> int:
    count = 0
    for name, ident in before.items():
        try:
            st = os.stat(docs / name)
        except FileNotFoundError:  # never expected: os.replace is atomic
            continue
        count += (st.st_ino, st.st_mtime_ns) != ident
    return count


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("kill_after", [1, 60, 150])
def test_fix_killed_mid_run_leaves_every_page_whole(tmp_path, kill_after):
    docs, known = make_docs(tmp_path)
    before = {name: (os.stat(docs / name).st_ino, os.stat(docs / name).st_mtime_ns) for name in known}
    proc = subprocess.Popen([sys.executable, "-c", FIX, "fix", "docs"], cwd=tmp_path, env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120  # a hang guard: the kill comes 1-3 s after the start on a quiet machine
    try:
        while replaced(docs, before) < kill_after:
            assert proc.poll() is None, f"fix ended before the kill: {proc.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "fix wrote nothing in 120 s"
            time.sleep(0.002)
        still_running = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)  # a hang guard: a killed process is reaped at once
        proc.stderr.close()
    assert still_running, "fix finished before it could be killed: nothing was tested"
    assert proc.returncode == -signal.SIGKILL

    old_pages, new_pages, broken = [], [], []
    for name, (old, new) in known.items():
        data = (docs / name).read_bytes()
        (old_pages if data == old else new_pages if data == new else broken).append(name)
    assert not broken, f"{len(broken)} page(s) neither wholly old nor wholly new, e.g. {broken[:5]}"
    assert new_pages, "no page was fixed before the kill"
    assert old_pages, "every page was fixed: the kill came too late to test anything"

    left = sorted(p.name for p in docs.iterdir() if p.name not in known)
    assert not [n for n in left if n.lower().endswith(PAGE_SUFFIXES)], f"a temporary file looks like a page: {left}"
    assert all(n.startswith(".") for n in left), f"temporary files left in plain sight: {left}"
    assert len(left) <= 1, f"more temporary files left than the one being written: {left}"

    # a second run finishes the job, and the pages it finishes are exactly the expected ones (timeout:
    # a hang guard, the run takes 3-5 s on a quiet machine)
    done = subprocess.run([sys.executable, "-c", FIX, "fix", "docs"], cwd=tmp_path, env=child_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    for name, (_, new) in known.items():
        assert (docs / name).read_bytes() == new, name
    assert f"fixed docs/{old_pages[0]}: 1 token" in done.stdout


# ------------------------------------------------------------------ failing writes, in process



def two_pages(env: Path) -> tuple[Path, dict[str, tuple[bytes, bytes]]]:
    docs = env / "docs"
    docs.mkdir()
    known = {}
    for i, name in ((0, "a.md"), (1, "b.md")):
        old, new = versions(i)
        (docs / name).write_bytes(old)
        known[name] = (old, new)
    return docs, known


def fail_once(real, exc: BaseException):
    calls = []

    def _fail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise exc
        return real(*args, **kwargs)

    return _fail


@pytest.mark.parametrize(
    "target,exc,message",
    [
        ("fsync", OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
        ("replace", OSError(errno.EXDEV, "Invalid cross-device link"), "Invalid cross-device link"),
        ("replace", OSError(errno.EBUSY, "Device or resource busy"), "Device or resource busy"),
        ("exchange", OSError(errno.EXDEV, "Invalid cross-device link"), "Invalid cross-device link"),
        ("exchange", OSError(errno.EBUSY, "Device or resource busy"), "Device or resource busy"),
    ],
    ids=["disk-full", "rename-cross-device", "rename-busy", "exchange-cross-device", "exchange-busy"],
)
def test_a_failing_write_leaves_the_page_and_no_temporary_file(env, run, monkeypatch, target, exc, message):
    """``replace``: where files cannot be exchanged (the fix falls back on a plain rename), the
    rename fails; ``exchange``: the atomic exchange of the new file and the page fails."""
    import mkdocs_oo_jwt.run.fixer as fixer

    docs, known = two_pages(env)
    if target == "exchange":
        monkeypatch.setattr(fixer, "exchange", fail_once(fixer.exchange, exc))
    else:
        if target == "replace":
            monkeypatch.setattr(fixer, "exchange", lambda a, b: False)
        monkeypatch.setattr(os, target, fail_once(getattr(os, target), exc))
    rc, out, _ = run("fix", "docs")
    assert rc == 1
    assert (docs / "a.md").read_bytes() == known["a.md"][0], "the page whose write failed was changed"
    assert (docs / "b.md").read_bytes() == known["b.md"][1], "the next page was not fixed"
    assert "docs/a.md" in out and message in out and "not fixed" in out, out
    assert sorted(p.name for p in docs.iterdir()) == ["a.md", "b.md"], "a temporary file was left"
    # the report is of the page as it is on disk: its stale token is still an error there
    assert re.search(r"^docs/a\.md:\d+:\d+: error token-payload-mismatch", out, re.M), out
    assert not re.search(r"^docs/b\.md:\d+:\d+: error", out, re.M), out


def assert_not_fixed_as_on_disk(out: str, shown: str, old: bytes, page: Path) -> None:
    """The page kept its bytes, the report says so, and its findings are those of the page as it
    is on disk (its stale token), not of the text that could not be written."""
    assert page.read_bytes() == old, "the page whose write failed was changed"
    assert f"{shown}: " in out and "not fixed" in out, out
    assert f"fixed {shown}" not in out, out
    assert re.search(rf"^{re.escape(shown)}:\d+:\d+: error token-payload-mismatch", out, re.M), out
    assert not [p.name for p in page.parent.iterdir() if p.name != page.name], "a temporary file was left"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX folder permissions and chattr")
def test_a_read_only_folder_leaves_the_page_and_reports_it_as_it_is(env, run):
    """The page is writable, its folder is not (no temporary file can be made beside it): as root,
    whom permissions do not stop, the folder is made immutable (chattr +i), otherwise 0555."""
    docs, known = two_pages(env)
    locked = docs / "locked"
    locked.mkdir()
    (docs / "a.md").rename(locked / "a.md")
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
            pytest.skip("running as root and chattr +i is not available on this file system")
    else:
        locked.chmod(0o555)
    try:
        rc, out, _ = run("fix", "docs")
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        else:
            locked.chmod(0o755)
    assert rc == 1
    assert "docs/locked/a.md: cannot write a temporary file beside it:" in out, out
    assert_not_fixed_as_on_disk(out, "docs/locked/a.md", known["a.md"][0], locked / "a.md")
    assert (docs / "b.md").read_bytes() == known["b.md"][1], "the next page was not fixed"


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a file system with no space left: a 256 kB tmpfs, filled (needs root)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a real full disk needs root (mount -t tmpfs); the file-size limit test covers the rest")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(folder: Path) -> None:
    """Write a file until not one more byte fits."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_disk_leaves_the_page_and_no_temporary_file(env, run, full_disk):
    docs, known = two_pages(env)
    (full_disk / "a.md").write_bytes(known["a.md"][0])
    (docs / "a.md").unlink()
    (docs / "a.md").symlink_to(full_disk / "a.md")  # the page lives on the full disk
    fill(full_disk)
    rc, out, _ = run("fix", "docs")
    assert rc == 1
    assert "docs/a.md: cannot write: No space left on device: not fixed" in out, out
    assert (docs / "b.md").read_bytes() == known["b.md"][1], "the next page was not fixed"
    (full_disk / "filler").unlink()
    assert_not_fixed_as_on_disk(out, "docs/a.md", known["a.md"][0], full_disk / "a.md")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_write_cut_short_by_the_file_size_limit_leaves_the_page_and_no_temporary_file(tmp_path):
    """Like a full disk, for any user: fix runs with a file-size limit below the page's size, so
    writing the new text fails part way ("File too large"); the page, and only the page, stays."""
    import resource

    docs = tmp_path / "docs"
    docs.mkdir()
    old, _ = versions(0)
    (docs / "a.md").write_bytes(old)
    limit = len(old) // 2

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    # timeout: a hang guard, the run takes about a second
    done = subprocess.run([sys.executable, "-c", FIX, "fix", "docs"], cwd=tmp_path, env=child_env(),
                          capture_output=True, text=True, timeout=300, preexec_fn=limited)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "docs/a.md: cannot write: File too large: not fixed" in done.stdout, done.stdout
    assert_not_fixed_as_on_disk(done.stdout, "docs/a.md", old, docs / "a.md")


def test_ctrl_c_while_writing_leaves_the_page_and_no_temporary_file(env, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) while the new text is being synced: the command stops (how it
    says so is the command's), the page keeps its bytes and no temporary file is left."""
    docs, known = two_pages(env)
    monkeypatch.setattr(os, "fsync", fail_once(os.fsync, KeyboardInterrupt()))
    try:
        main(["fix", "docs"])
    except (KeyboardInterrupt, SystemExit):
        pass
    assert (docs / "a.md").read_bytes() == known["a.md"][0]
    assert sorted(p.name for p in docs.iterdir()) == ["a.md", "b.md"], "a temporary file was left"


def test_a_page_edited_meanwhile_with_size_and_mtime_kept_is_left_alone(env, run, monkeypatch):
    import mkdocs_oo_jwt.run.fixer as fixer

    docs, known = two_pages(env)
    page = docs / "a.md"
    old = known["a.md"][0]
    edited = old.replace(b"# Page 0", b"# Page X")
    assert len(edited) == len(old)
    real_check = fixer.check_page

    def check_then_edit(p, *args, **kwargs):  # an editor saves the page, same size, mtime put back
        report = real_check(p, *args, **kwargs)
        if p.path.endswith("a.md"):
            st = page.stat()
            page.write_bytes(edited)
            os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))
        return report

    monkeypatch.setattr(fixer, "check_page", check_then_edit)
    rc, out, _ = run("fix", "docs")
    assert rc == 1
    assert page.read_bytes() == edited
    assert "changed on disk" in out and "docs/a.md" in out
    assert (docs / "b.md").read_bytes() == known["b.md"][1]
    assert sorted(p.name for p in docs.iterdir()) == ["a.md", "b.md"]


@pytest.mark.parametrize("mode", [0o600, 0o604, 0o660, 0o755])
def test_the_mode_is_kept(env, run, mode):
    docs, known = two_pages(env)
    (docs / "a.md").chmod(mode)
    run("fix", "docs")
    assert (docs / "a.md").read_bytes() == known["a.md"][1]
    assert stat.S_IMODE((docs / "a.md").stat().st_mode) == mode


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_a_chain_of_symlinks_is_written_through_to_the_file(env, run):
    docs, known = two_pages(env)
    real = env / "shared" / "real.md"
    real.parent.mkdir()
    (docs / "a.md").rename(real)
    (env / "shared" / "middle.md").symlink_to("real.md")
    (docs / "a.md").symlink_to(os.path.join("..", "shared", "middle.md"))
    run("fix", "docs")
    assert real.read_bytes() == known["a.md"][1]
    assert os.readlink(docs / "a.md") == os.path.join("..", "shared", "middle.md")
    assert os.readlink(env / "shared" / "middle.md") == "real.md"
    assert sorted(p.name for p in (env / "shared").iterdir()) == ["middle.md", "real.md"]
