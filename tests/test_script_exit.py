"""The ``oo-jwt`` process (``cli.script``) ends without tearing the interpreter down: what it
wrote must still all be there, its exit code still says what was found, handlers registered to run
at exit still run, and a thread still running is waited for (the interpreter then ends as usual)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

STALE = textwrap.dedent("""\
    # Conversion

    ```json
    {"async": false, "filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx",
     "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1cmwiOiJodHRwOi8vZXhhbXBsZS5jb20vYS5kb2N4In0.c2lnbmF0dXJl"}
    ```
    """)


def _script(tmp_path, prelude: str, *argv: str) -> subprocess.CompletedProcess:
    """Run ``cli.script`` in a fresh interpreter after ``prelude``, on tmp_path's pages."""
    code = prelude + "\nimport sys\nsys.argv = ['oo-jwt', *sys.argv[1:]]\nfrom mkdocs_oo_jwt.cli import script\nscript()\n"
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=300)


def _pages(tmp_path, count: int) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(count):
        (docs / f"p{i:03}.md").write_text(STALE, encoding="utf-8")


def test_a_long_report_is_written_whole_and_the_exit_code_says_findings(tmp_path):
    _pages(tmp_path, 150)
    done = _script(tmp_path, "", "check", "--no-cache", "--format", "json", "docs")
    assert done.returncode == 1, done.stderr
    import json

    report = json.loads(done.stdout)  # the whole report: it parses
    assert len({f["path"] for f in report["findings"]}) == 150
    assert "Traceback" not in done.stderr


def test_handlers_registered_to_run_at_exit_still_run(tmp_path):
    _pages(tmp_path, 1)
    marker = tmp_path / "ran-at-exit"
    prelude = f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').close())"
    done = _script(tmp_path, prelude, "check", "--no-cache", "docs")
    assert done.returncode == 1, done.stderr
    assert marker.exists()
    assert "docs/p000.md" in done.stdout


def test_a_thread_still_running_is_waited_for(tmp_path):
    _pages(tmp_path, 1)
    marker = tmp_path / "thread-finished"
    prelude = textwrap.dedent(f"""\
        import threading, time
        def late():
            time.sleep(0.5)
            open({str(marker)!r}, 'w').close()
        threading.Thread(target=late).start()
        """)
    done = _script(tmp_path, prelude, "check", "--no-cache", "--jobs", "1", "docs")
    assert done.returncode == 1, done.stderr
    assert marker.exists()


def test_no_page_is_a_clean_exit(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "plain.md").write_text("# Nothing to check\n", encoding="utf-8")
    done = _script(tmp_path, "", "check", "--no-cache", "docs")
    assert done.returncode == 0, done.stderr


def _run_with_stdout(tmp_path, stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "docs"], cwd=tmp_path,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300)


def test_a_report_stdout_cannot_take_is_one_error_line_and_exit_2(tmp_path):
    """A full disk under stdout loses the report: said as --output-file says it, never "a bug"."""
    import os

    if not os.path.exists("/dev/full"):
        import pytest

        pytest.skip("no /dev/full on this system")
    _pages(tmp_path, 3)
    with open("/dev/full", "w") as full:
        done = _run_with_stdout(tmp_path, full)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "oo-jwt: error: cannot write to stdout: No space left on device"
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_closed_stdout_is_one_error_line_and_exit_2(tmp_path):
    import os

    _pages(tmp_path, 1)
    done = subprocess.run([sys.executable, "-c", "import os, runpy, sys; os.close(1); sys.argv = ['oo-jwt', 'check', "
                           "'--no-cache', 'docs']; runpy.run_module('mkdocs_oo_jwt', run_name='__main__')"],
                          cwd=tmp_path, stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("oo-jwt: error: cannot write to stdout: ")
    assert "internal error" not in done.stderr and os.path.isdir(tmp_path / "docs")
