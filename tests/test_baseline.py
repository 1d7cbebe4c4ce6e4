"""The baseline: a tree that already has defects turns the gate on, and only new findings fail it.

Run on ``pages/docsapi_like/`` (a small tree shaped like ONLYOFFICE's docs-api: docs/ and a Chinese
copy under i18n/zh/, with stale tokens and a schema error; see its make_pages.py), copied into a
temporary folder: the real command (in process, and as pre-commit runs it), a real ``mkdocs build``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS

TREE = Path(__file__).parent / "pages" / "docsapi_like"
SECRET = "oo-jwt-test-secret-0123456789abcdef"  # the tree's tokens are signed with it (make_pages.py)
BASELINE = ".oo-jwt-baseline.json"
CONVERSION = "docs/docs-api/additional-api/conversion-api/request.md"
ZH_CONVERSION = "i18n/zh/docusaurus-plugin-content-docs/current/docs-api/additional-api/conversion-api/request.md"
COMMAND = "docs/docs-api/additional-api/command-service/info.md"
CALLBACK = "docs/docs-api/usage-api/callback-handler.md"


@pytest.fixture
def site(env):
    """The tree in the current folder (a repository's root), with its defects."""
    shutil.copytree(TREE, env, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (env / ".git").mkdir()
    return env


def findings(out: str) -> list[str]:
    """The finding lines of a text report (path:line:col: ...)."""
    return [line for line in out.splitlines() if line.split(":", 1)[0].endswith(".md")]


def entries(path: Path = Path(BASELINE)) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def write(run, *paths: str) -> tuple[int, str, str]:
    return run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", *(paths or ("docs", "i18n")))


def gate(run, *args: str) -> tuple[int, str, str]:
    return run("check", "--no-cache", "--baseline", BASELINE, *args, *(() if any(a in ("docs", "i18n") or a.endswith(".md") for a in args) else ("docs", "i18n")))


def stale_token_section(title: str = "Another conversion") -> str:
    """A new section for the conversion page: an example, and a token signed over it before its
    key changed (one finding: /key). The token is the page's last line but one."""
    example = {"filetype": "docx", "key": "new-key", "outputtype": "pdf", "url": "https://example.com/new.docx"}
    token = jwt.encode({**example, "key": "old-key"}, SECRET, algorithm="HS256")
    example = json.dumps(example, indent=4)
    return f"\n## {title}\n\nSample parameters of the request to convert the document:\n\n```json\n{example}\n```\n\n" \
           f"Sample token\n\n```\n{token}\n```\n"


# ------------------------------------------------------------------ the acceptance of issue 16


def test_the_tree_fails_then_a_written_baseline_lets_it_pass(site, run):
    code, out, _ = run("check", "--no-cache", "docs", "i18n")
    assert code == 1 and len(findings(out)) == 7
    code, out, err = write(run)
    assert code == 0 and "wrote 7 baseline entries" in err
    assert out.rstrip().endswith("; baseline: 7 findings baselined, 0 entries stale")
    code, out, _ = gate(run)
    assert code == 0 and findings(out) == []
    assert out.rstrip() == "no problems in 4 pages; baseline: 7 findings baselined, 0 entries stale"


def test_the_file_is_sorted_stable_keyed_without_lines_and_holds_no_token(site, run):
    write(run)
    data = Path(BASELINE).read_bytes()
    doc = json.loads(data)
    assert doc["version"] == 1 and len(doc["entries"]) == 7
    keys = [(e["path"], e["rule"], e["flow"] or "", e["pointer"] or "") for e in doc["entries"]]
    assert keys == sorted(keys)
    assert {tuple(e) for e in doc["entries"]} == {("path", "rule", "flow", "pointer", "fingerprint")}
    assert {e["path"] for e in doc["entries"]} == {CONVERSION, ZH_CONVERSION, COMMAND, CALLBACK}
    assert b"eyJ" not in data and SECRET.encode() not in data and b"line" not in data
    assert data.isascii() and data.count(b"\n") == 7 + 5  # one entry a line
    write(run)
    assert Path(BASELINE).read_bytes() == data  # the same findings, the same bytes


def test_a_new_stale_token_fails_naming_only_that_one(site, run):
    write(run)
    page = Path(CONVERSION)
    page.write_text(page.read_text(encoding="utf-8") + stale_token_section(), encoding="utf-8")
    token_line = len(page.read_text(encoding="utf-8").splitlines()) - 1
    code, out, _ = gate(run)
    assert code == 1
    assert findings(out) == [f"{CONVERSION}:{token_line}:1: error token-payload-mismatch [conversion] /key: the "
                             'example has "new-key", the token has "old-key"']
    assert out.rstrip().endswith("1 error, 0 warnings, 0 infos in 4 pages; baseline: 7 findings baselined, "
                                 "0 entries stale")


def test_a_translated_copy_is_its_own_page(site, run):
    """The same stale token on another page is a new finding: the path is part of the key."""
    write(run)
    copy = Path(CONVERSION).with_name("request-copy.md")
    shutil.copy(CONVERSION, copy)
    code, out, _ = gate(run)
    assert code == 1 and len(findings(out)) == 2
    assert all(line.startswith(f"{copy.as_posix()}:") for line in findings(out))


def test_two_identical_findings_are_two_entries(site, run):
    """Multiset: a second copy of a baselined stale token on the same page is new."""
    write(run)
    page = Path(COMMAND)
    text = page.read_text(encoding="utf-8")
    block = text[text.index("The whole request then reads:"):text.index("## drop")]
    page.write_text(text.replace("## drop", block + "## drop"), encoding="utf-8")
    code, out, _ = gate(run)
    assert code == 1 and len(findings(out)) == 1 and findings(out)[0].startswith(f"{COMMAND}:")
    copy_starts = text[:text.index("## drop")].count("\n") + 1  # the line the copy starts at
    assert int(findings(out)[0].split(":")[1]) > copy_starts and "token-payload-mismatch" in findings(out)[0]


def test_fixing_a_defect_makes_its_entry_stale_and_update_removes_exactly_it(site, run):
    write(run)
    before = Path(BASELINE).read_text(encoding="utf-8").splitlines()
    page = Path(CALLBACK)
    page.write_text(page.read_text(encoding="utf-8").replace('"status": "1"', '"status": 1'), encoding="utf-8")
    code, out, _ = gate(run)
    assert code == 0
    assert out.rstrip().endswith("baseline: 6 findings baselined, 1 entry stale (no finding matches them any more: "
                                 "--update-baseline removes them)")
    code, out, err = gate(run, "--update-baseline")
    assert code == 0 and "removed 1 baseline entry" in err and "(6 left)" in err
    after = Path(BASELINE).read_text(encoding="utf-8").splitlines()
    gone = [line for line in before if line not in after]
    assert len(after) == len(before) - 1 and len(gone) == 1
    assert json.loads(gone[0].rstrip(","))["rule"] == "schema" and json.loads(gone[0].rstrip(","))["path"] == CALLBACK
    assert [line.rstrip(",") for line in after] == [line.rstrip(",") for line in before if line != gone[0]]
    assert out.rstrip().endswith("baseline: 6 findings baselined, 0 entries stale")
    # a second update: nothing to remove, the file untouched
    stat = Path(BASELINE).stat()
    code, _, err = gate(run, "--update-baseline")
    assert code == 0 and "no baseline entry to remove" in err and Path(BASELINE).stat().st_mtime_ns == stat.st_mtime_ns


def test_update_never_adds_an_entry(site, run):
    write(run)
    before = Path(BASELINE).read_bytes()
    page = Path(CONVERSION)
    page.write_text(page.read_text(encoding="utf-8") + stale_token_section(), encoding="utf-8")
    code, out, err = gate(run, "--update-baseline")
    assert code == 1 and findings(out) and "no baseline entry to remove" in err
    assert Path(BASELINE).read_bytes() == before


def test_editing_text_above_a_baselined_token_keeps_it_baselined(site, run):
    _, out, _ = write(run)
    _, out, _ = run("check", "--no-cache", "docs", "i18n")
    where_before = {tuple(line.split(":")[:2]) for line in findings(out)}
    for name in (CONVERSION, COMMAND, CALLBACK):
        page = Path(name)
        text = page.read_text(encoding="utf-8")
        lines = text.split("\n")
        title = next(i for i, line in enumerate(lines) if line.startswith("# "))  # after the front matter
        lines[title + 1:title + 1] = ["", "A new paragraph, and another, that move every line below them.", ""] * 3
        text = "\n".join(lines)
        # the example of the schema error laid out anew: its canonical JSON is the same
        text = text.replace('"status": "1",', '"status":    "1"  ,')
        page.write_text(text, encoding="utf-8")
    code, out, _ = run("check", "--no-cache", "docs", "i18n")
    moved = {tuple(line.split(":")[:2]) for line in findings(out)}
    assert code == 1 and len(moved) == 7 and not moved & {w for w in where_before if not w[0].startswith("i18n")}
    code, out, _ = gate(run)
    assert code == 0 and findings(out) == [] and "7 findings baselined, 0 entries stale" in out


def test_a_deleted_page_makes_its_entries_stale(site, run):
    write(run)
    os.unlink(CONVERSION)  # under a folder the run walks: its 2 entries are stale
    code, out, _ = gate(run)
    assert code == 0 and "5 findings baselined, 2 entries stale" in out
    gate(run, "--update-baseline")
    assert {e["path"] for e in entries()} == {ZH_CONVERSION, COMMAND, CALLBACK}


def test_a_run_over_part_of_the_tree_leaves_the_other_entries_alone(site, run):
    write(run)
    before = Path(BASELINE).read_bytes()
    code, out, _ = gate(run, "docs")  # i18n not walked: its entries are not stale
    assert code == 0 and "5 findings baselined, 0 entries stale" in out
    gate(run, "--update-baseline", "docs")
    assert Path(BASELINE).read_bytes() == before
    write(run, CALLBACK)  # rewritten from one page: the others' entries are kept
    assert Path(BASELINE).read_bytes() == before


def test_show_baselined_and_the_json_counts(site, run):
    write(run)
    Path(CALLBACK).write_text(Path(CALLBACK).read_text(encoding="utf-8").replace('"status": "1"', '"status": 1'),
                              encoding="utf-8")
    code, out, _ = gate(run, "--show-baselined")
    assert code == 0 and len(findings(out)) == 6 and all(line.endswith(" (baselined)") for line in findings(out))
    code, out, _ = gate(run, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["findings"] == []
    assert report["summary"]["baselined"] == 6 and report["summary"]["baseline_stale"] == 1
    assert report["summary"]["errors"] == 0
    code, out, _ = gate(run, "--format", "json", "--show-baselined")
    report = json.loads(out)
    assert len(report["findings"]) == 6 and all(f["baselined"] is True for f in report["findings"])
    code, out, _ = run("check", "--no-cache", "--format", "json", "docs")
    assert "baselined" not in json.loads(out)["summary"]  # no baseline: the report as before


@pytest.mark.parametrize("content, problem", [
    (None, "no such file"),
    ("{\"version\": 1, \"entries\": [", "not JSON"),
    ("{\"version\": 2, \"entries\": []}", "version 2, this oo-jwt reads version 1"),
    ("{\"version\": 1, \"entries\": {}}", "\"entries\" is not a list"),
    ("{\"version\": 1, \"entries\": [{\"path\": \"a.md\"}]}", "entry 1 is not one"),
    ("[]", "no \"entries\" list"),
    (b"\xff\xfe", "not UTF-8 text"),
    ("folder", "not a regular file"),
])
def test_a_missing_or_corrupt_baseline_is_one_line_and_exit_2(site, run, content, problem):
    if content == "folder":
        Path(BASELINE).mkdir()
    elif isinstance(content, bytes):
        Path(BASELINE).write_bytes(content)
    elif content is not None:
        Path(BASELINE).write_text(content, encoding="utf-8")
    code, out, err = gate(run)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"oo-jwt: error: baseline {BASELINE}: ") and problem in err


def test_the_baseline_flags_need_a_file(site, run):
    code, _, err = run("check", "--no-cache", "--write-baseline", "docs")
    assert code == 2 and err.count("\n") == 1 and "--write-baseline needs a baseline file" in err
    code, _, err = run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "--update-baseline", "docs")
    assert code == 2 and "not allowed with" in err


def test_a_corrupt_baseline_is_written_anew(site, run):
    Path(BASELINE).write_text("not json", encoding="utf-8")
    code, _, err = write(run)
    assert code == 0 and "does not read as one: written anew" in err and len(entries()) == 7


def test_the_baseline_option_of_pyproject_is_relative_to_its_folder(site, run, monkeypatch):
    Path("pyproject.toml").write_text('[tool.oo-jwt]\nbaseline = "ci/oo-jwt-baseline.json"\n', encoding="utf-8")
    Path("ci").mkdir()
    assert run("check", "--no-cache", "--write-baseline", "docs", "i18n")[0] == 0
    assert {e["path"] for e in entries(Path("ci/oo-jwt-baseline.json"))} == {
        f"../{p}" for p in (CONVERSION, ZH_CONVERSION, COMMAND, CALLBACK)}
    monkeypatch.chdir("docs/docs-api")  # found from a subfolder; keys do not depend on where the run starts
    code, out, _ = run("check", "--no-cache", ".")
    assert code == 0 and "5 findings baselined, 0 entries stale" in out


def test_a_warm_run_from_the_cache_keeps_findings_baselined(site, run):
    """The cache keeps what a finding is about: a page answered from it is still matched."""
    assert run("check", "--baseline", BASELINE, "--write-baseline", "docs", "i18n")[0] == 0
    assert Path(".oo-jwt-cache", "findings-v2.json").is_file()
    code, out, _ = run("check", "--baseline", BASELINE, "docs", "i18n")
    assert code == 0 and "7 findings baselined, 0 entries stale" in out


def test_pre_commit_passes_files_and_their_baselined_findings_are_still_filtered(site):
    """The hook's entry (oo-jwt check --force-exclude) with the staged files named, from the
    repository's root and from a subfolder: the keys are the pages' paths from the baseline's
    folder, not from where the run starts, nor the names given. Entries of pages not given are not
    stale. The real command, in a subprocess."""
    Path("pyproject.toml").write_text(f'[tool.oo-jwt]\nbaseline = "{BASELINE}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = SECRET
    command = [sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--force-exclude"]

    def hook(*files: str, cwd: str = ".") -> subprocess.CompletedProcess:
        return subprocess.run([*command, *files], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)

    assert subprocess.run([*command, "--write-baseline", "docs", "i18n"], env=env, cwd=".", timeout=300,
                          capture_output=True).returncode == 0
    done = hook(CONVERSION, CALLBACK)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("in 2 pages; baseline: 4 findings baselined, 0 entries stale")
    done = hook("request.md", cwd=str(Path(CONVERSION).parent))
    assert done.returncode == 0 and "2 findings baselined, 0 entries stale" in done.stdout, done.stdout + done.stderr
    # a staged page with a new stale token: only it fails
    page = Path(CONVERSION)
    page.write_text(page.read_text(encoding="utf-8") + stale_token_section(), encoding="utf-8")
    done = hook(CONVERSION, COMMAND)
    assert done.returncode == 1 and len(findings(done.stdout)) == 1 and "/key" in done.stdout


# ------------------------------------------------------------------ the build


def _mkdocs(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d",
                           str(folder / "built"), *args], capture_output=True, text=True, env=env, cwd=folder,
                          timeout=300)


@pytest.mark.parametrize("front_end", ["plugin", "extension"])
def test_a_build_with_the_baseline_option(site, run, front_end):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here: the plugin cannot be built with")
    entry = f"    - oo-jwt:\n        baseline: {BASELINE}\n" if front_end == "plugin" else ""
    extension = f"markdown_extensions:\n  - mkdocs_oo_jwt.extension:\n      baseline: {BASELINE}\n" if front_end == "extension" else ""
    plugins = "plugins:\n" + entry if entry else "plugins: []\n"
    Path("mkdocs.yml").write_text(f"site_name: docs-api\ndocs_dir: docs\n{plugins}{extension}", encoding="utf-8")
    assert run("check", "--no-cache", "--baseline", BASELINE, "--write-baseline", "docs", "i18n")[0] == 0
    done = _mkdocs(Path.cwd())
    assert done.returncode == 0, done.stderr
    if front_end == "plugin":
        assert "baseline: 5 findings baselined, 0 entries stale" in done.stderr
    # one defect fixed: its entry is stale, the build still passes
    Path(CALLBACK).write_text(Path(CALLBACK).read_text(encoding="utf-8").replace('"status": "1"', '"status": 1'),
                              encoding="utf-8")
    done = _mkdocs(Path.cwd())
    assert done.returncode == 0, done.stderr
    if front_end == "plugin":
        assert "baseline: 4 findings baselined, 1 entry stale" in done.stderr
    else:
        assert "callback-handler.md: 1 baseline entry of this page no finding matches any more" in done.stderr
    # a new stale token fails the strict build, naming it and nothing else
    page = Path(CONVERSION)
    page.write_text(page.read_text(encoding="utf-8") + stale_token_section(), encoding="utf-8")
    done = _mkdocs(Path.cwd())
    assert done.returncode != 0
    named = [line for line in done.stderr.splitlines() if "token-" in line or "schema" in line]
    assert named and all("request.md:" in line and "/key" in line for line in named), done.stderr


def test_a_build_with_a_missing_baseline_stops_with_one_line(site):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here: the plugin cannot be built with")
    Path("mkdocs.yml").write_text(f"site_name: t\ndocs_dir: docs\nplugins:\n  - oo-jwt:\n      baseline: {BASELINE}\n",
                                  encoding="utf-8")
    done = _mkdocs(Path.cwd())
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"oo-jwt: baseline {BASELINE}: no such file" in done.stderr


def test_mkdocs_serve_rebuilds_when_the_baseline_changes(tmp_path):
    """`mkdocs serve` with `baseline:` watches the file: an `--update-baseline` run beside the
    server rebuilds the site with the smaller baseline (it was not watched: the served pages kept
    the old answer until another file changed)."""
    pytest.importorskip("mkdocs")
    from mkdocs.config import load_config

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "base.json").write_text('{"version": 1, "entries": []}\n', encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: s\nplugins:\n  - oo-jwt:\n      baseline: base.json\n",
                                         encoding="utf-8")
    config = load_config(str(tmp_path / "mkdocs.yml"))
    config.plugins.on_startup(command="serve", dirty=False)
    config = config.plugins.on_config(config)

    class Server:  # what on_serve is handed: MkDocs' LiveReloadServer, of which only watch is used
        watched: list[str] = []

        def watch(self, path, *args, **kwargs):
            self.watched.append(path)

    server = config.plugins.on_serve(Server(), config=config, builder=lambda: None)
    assert str(tmp_path / "base.json") in server.watched
