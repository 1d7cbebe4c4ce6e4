"""Review of issue 16 (baseline, suppressions, CI reports): defects found by using the feature on a
copy of the real docs tree, each a user would notice.

- ``--output-file`` named a link or a pipe (``/dev/stdout``, a FIFO, a shell's ``>(...)``): the
  report was renamed over the name, so the link became a file of its own (as root,
  ``--output-file /dev/stdout`` replaced the system's /dev/stdout) and the pipe's reader got nothing.
- A baseline saved with a UTF-8 BOM (Windows Notepad, a hand edit) was "not JSON": exit 2.
- ``--statistics`` gave each rule its catalog severity: a rule whose findings are of two
  severities (a token of no known flow is only a note) was one row with the wrong word.
- SARIF with ``--show-baselined`` listed the baselined findings as any other: a SARIF reader could
  not tell them from new ones (SARIF's ``baselineState``).
- With ``--show-baselined`` and nothing new, the summary said "0 errors, 0 warnings, 0 infos"
  where the same run without it says "no problems".
- A schema error was keyed by its whole example: fixing another defect of that example (docs-api's
  signature/browser.md: a missing 'user' and a stale callbackUrl in one config) made the old one
  new, so the gate failed and --update-baseline (which never adds) could not help.
- ``--add-ignore`` with a baseline that does not read wrote its directives, then stopped (exit 2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "oo-jwt-test-secret-0123456789abcdef"
VENDOR = Path(__file__).parent / "vendor"
BASELINE = ".oo-jwt-baseline.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def empty_key_token(payload: dict) -> str:
    """A token signed with an empty key (PyJWT refuses to make one): token-weak-secret."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    return f"{head}.{body}.{_b64(hmac.new(b'', f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


COMMAND = {"c": "info", "key": "Khirz6zTPdfd7"}


def command_page(example: dict = COMMAND) -> str:
    """A command-service page whose token (signed with an empty key) signs ``COMMAND``: a warning
    (token-weak-secret), and an error (token-payload-mismatch) when ``example`` differs."""
    return (f"# Command service\n\nSend the command:\n\n```json\n{json.dumps(example)}\n```\n\n"
            f"Sample token:\n\n```\n{empty_key_token(COMMAND)}\n```\n")


def unknown_flow_page() -> str:
    """A token of no known flow, signed with an empty key: its token-weak-secret is a note."""
    return f"# Notes\n\nSome token:\n\n```\n{empty_key_token({'foo': 'bar'})}\n```\n"


def oo_jwt(cwd: Path, *argv: str, **kwargs) -> subprocess.CompletedProcess:
    """The real command, with no secret (the pages' tokens are judged by their form and payload)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")}
    return subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, **kwargs)


@pytest.fixture
def here(env, monkeypatch):
    """A fresh current folder (``env``) and no secret: in-process runs judge tokens as ``oo_jwt`` does."""
    monkeypatch.delenv("OO_JWT_SECRET")
    return env


# ------------------------------------------------------------------ --output-file


def test_output_file_through_a_link_writes_the_file_it_names_and_keeps_the_link(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(command_page())
    (tmp_path / "reports").mkdir()
    (tmp_path / "report.json").symlink_to(Path("reports") / "oo-jwt.json")
    done = oo_jwt(tmp_path, "check", "--no-cache", "--format", "json", "--output-file", "report.json", "docs")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.json").is_symlink()
    report = json.loads((tmp_path / "reports" / "oo-jwt.json").read_text())
    assert [f["rule"] for f in report["findings"]] == ["token-weak-secret"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_output_file_to_a_pipe_writes_into_the_pipe(tmp_path):
    """``--output-file /dev/stdout`` (or a shell's ``>(...)``) is a pipe or a device: the report is
    written into it, and it stays what it was."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(command_page())
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there before the writer comes
    got = bytearray()
    try:
        done = oo_jwt(tmp_path, "check", "--no-cache", "--format", "json", "--output-file", "pipe", "docs")
        while True:
            try:
                chunk = os.read(reader, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        os.close(reader)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode), "the pipe was replaced by a file"
    assert [f["rule"] for f in json.loads(got)["findings"]] == ["token-weak-secret"]
    assert "(report in pipe)" in done.stdout


def test_output_file_in_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(command_page())
    done = oo_jwt(tmp_path, "check", "--no-cache", "--output-file", "no/such/folder/r.txt", "docs")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot write the report to no/such/folder/r.txt" in done.stderr
    assert not (tmp_path / "no").exists()


# ------------------------------------------------------------------ the baseline file


def test_a_baseline_saved_with_a_bom_and_crlf_still_reads(here, run):
    Path("docs").mkdir()
    Path("docs/a.md").write_text(command_page())
    rc, _, err = run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs")
    assert rc == 0, err
    text = Path(BASELINE).read_text(encoding="utf-8")
    Path(BASELINE).write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())  # Notepad's way
    rc, out, err = run("check", "--no-cache", "--baseline", BASELINE, "docs")
    assert rc == 0, err
    assert "baseline: 1 finding baselined, 0 entries stale" in out
    Path("docs/a.md").write_text(command_page({**COMMAND, "key": "another"}))  # a new finding still fails
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "docs")
    assert rc == 1 and "token-payload-mismatch" in out and "token-weak-secret" not in out


# ------------------------------------------------------------------ --statistics


def test_statistics_count_a_rule_by_the_severity_of_its_findings(here, run):
    Path("docs").mkdir()
    Path("docs/a.md").write_text(command_page())
    Path("docs/b.md").write_text(unknown_flow_page())
    rc, out, _ = run("check", "--no-cache", "--statistics", "docs")
    assert "0 errors, 1 warning, 2 infos in 2 pages" in out
    rows = [line.split() for line in out.splitlines()[out.splitlines().index("0 errors, 1 warning, 2 infos in 2 pages") + 1:]]
    assert sorted(rows) == sorted([["1", "token-weak-secret", "warning"], ["1", "token-weak-secret", "info"],
                                   ["1", "flow-unknown", "info"]])


# ------------------------------------------------------------------ --show-baselined


def test_sarif_marks_baselined_findings_unchanged_and_the_others_new(here, run):
    jsonschema = pytest.importorskip("jsonschema")
    Path("docs").mkdir()
    Path("docs/a.md").write_text(command_page())
    assert run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs")[0] == 0
    Path("docs/a.md").write_text(command_page({**COMMAND, "key": "another"}))
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "--show-baselined", "--format", "sarif", "docs")
    assert rc == 1
    doc = json.loads(out)
    schema = json.loads((VENDOR / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    states = {r["ruleId"]: r.get("baselineState") for r in doc["runs"][0]["results"]}
    assert states == {"token-weak-secret": "unchanged", "token-payload-mismatch": "new"}
    # without --show-baselined the baselined one is not listed; without a baseline, no state at all
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "--format", "sarif", "docs")
    assert [(r["ruleId"], r.get("baselineState")) for r in json.loads(out)["runs"][0]["results"]] == [
        ("token-payload-mismatch", "new")]
    rc, out, _ = run("check", "--no-cache", "--format", "sarif", "docs")
    assert all("baselineState" not in r for r in json.loads(out)["runs"][0]["results"])


def test_show_baselined_with_nothing_new_says_no_problems(here, run):
    Path("docs").mkdir()
    Path("docs/a.md").write_text(command_page())
    assert run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs")[0] == 0
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "--show-baselined", "docs")
    assert rc == 0
    assert out.splitlines()[0].endswith("(baselined)")
    assert out.splitlines()[-1] == "no problems in 1 page; baseline: 1 finding baselined, 0 entries stale"


# ------------------------------------------------------------------ what a baseline entry is about


def test_fixing_one_of_an_examples_two_defects_leaves_the_other_baselined(here, run):
    """An example with two schema errors (as docs-api's browser.md has a missing 'user' and a
    stale callbackUrl in one config): fixing one must not make the other a new finding, or the
    gate fails on an old defect and --update-baseline (which never adds) cannot help."""
    Path("docs").mkdir()
    page = Path("docs/command.md")
    page.write_text('# Command service\n\nSend the command:\n\n```json\n{"c": "info", "users": 5, "userdata": 1}\n```\n')
    assert run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs")[0] == 0
    before = json.loads(Path(BASELINE).read_text())["entries"]
    assert sorted(e["pointer"] for e in before) == ["/userdata", "/users"]
    page.write_text('# Command service\n\nIntro text added.\n\nSend the command:\n\n```json\n'
                    '{\n  "c": "info",\n  "users": 5,\n  "userdata": "fixed"\n}\n```\n')
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "docs")
    assert rc == 0, out
    assert "1 finding baselined, 1 entry stale" in out
    rc, out, err = run("check", "--no-cache", "--baseline", BASELINE, "--update-baseline", "docs")
    assert rc == 0 and "removed 1 baseline entry" in err
    assert json.loads(Path(BASELINE).read_text())["entries"] == [e for e in before if e["pointer"] == "/users"]
    page.write_text(page.read_text().replace('"users": 5', '"users": 6'))  # the old defect's value changed: new
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "docs")
    assert rc == 1 and "/users: 6 is not of type 'array'" in out


def test_add_ignore_with_a_baseline_that_does_not_read_writes_no_page(here, run):
    """A configuration error is exit 2 before anything is done: no page is given a directive."""
    Path("docs").mkdir()
    page = Path("docs/a.md")
    page.write_text(command_page())
    before = page.read_bytes()
    rc, _, err = run("check", "--no-cache", "--add-ignore", "--baseline", "missing.json", "docs")
    assert rc == 2 and "baseline missing.json: no such file" in err
    assert page.read_bytes() == before


def test_github_annotations_show_a_baselined_finding_as_a_notice_that_says_so(here, run):
    """--format github --show-baselined: a baselined finding is no ::error (a CI viewer would count
    it as a new failure); it is a notice marked (baselined), and the run passes."""
    Path("docs").mkdir()
    Path("docs/a.md").write_text(command_page())
    assert run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs")[0] == 0
    rc, out, _ = run("check", "--no-cache", "--baseline", BASELINE, "--show-baselined", "--format", "github", "docs")
    annotations = [line for line in out.splitlines() if line.startswith("::") and "file=" in line]
    assert rc == 0 and annotations
    assert all(line.startswith("::notice ") and "::(baselined) " in line for line in annotations), annotations
