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


def fail_once(real, exc: OSError):
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
    ],
    ids=["disk-full", "rename-cross-device", "rename-busy"],
)
def test_a_failing_write_leaves_the_page_and_no_temporary_file(env, run, monkeypatch, target, exc, message):
    docs, known = two_pages(env)
    monkeypatch.setattr(os, target, fail_once(getattr(os, target), exc))
    rc, out, _ = run("fix", "docs")
    assert rc == 1
    assert (docs / "a.md").read_bytes() == known["a.md"][0], "the page whose write failed was changed"
    assert (docs / "b.md").read_bytes() == known["b.md"][1], "the next page was not fixed"
    assert "docs/a.md" in out and message in out and "not fixed" in out, out
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
