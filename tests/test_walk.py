"""What `oo-jwt check .` walks in a repository: not .venv/, node_modules/, a site generator's build
output or what .gitignore ignores; the exclude globs; paths given by name (checked, unless
--force-exclude: pre-commit passes files one by one).

Every page written here holds a broken JSON example, so every page checked has a finding: the
paths of the findings are the pages checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pagekit import unlistable

from mkdocs_oo_jwt.cli import main
from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.run.fixer import fix_paths
from mkdocs_oo_jwt.settings import Settings

BROKEN = '# A page\n\n```json\n{"c": "info", }\n```\n'

# the pages a user means: checked by `oo-jwt check .`, in the order of the walk
CHECKED = [
    "README.md",
    "docs/page.md",
    "docs/api/keep.md",
    "docs/drafts/kept.draft.md",
    "handbook/docs/intro.md",
    "web/site/docs/page.md",  # Docusaurus sources under site/: no site generator's config beside it
]
LEFT_OUT = {
    ".venv/lib/x.md": "a hidden folder (the virtual environment)",
    "venv/lib/x.md": "a virtual environment",
    "node_modules/p/README.md": "node_modules",
    "docs/__pycache__/x.md": "__pycache__",
    ".github/ISSUE.md": "a hidden folder",
    "site/index.md": "/site/ in the root .gitignore",
    "handbook/site/intro.md": "MkDocs' build output: site/ beside mkdocs.yml",
    "docs/notes.draft.md": "*.draft.md in the root .gitignore",
    "docs/api/gone.md": "*.md in docs/api/.gitignore",
    "docs/api/old/keep.md": "old/ in docs/api/.gitignore: a folder ignored is not walked",
    "docs/drafts/other.draft.md": "*.draft.md in the root .gitignore, not re-included below",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OO_JWT_SECRET", "OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository with pages a user means, and pages under what no user means to check."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {name: BROKEN for name in [*CHECKED, *LEFT_OUT]})
    write(tmp_path, {
        ".gitignore": "# build output\n/site/\n*.draft.md\n",
        "docs/api/.gitignore": "*.md\n!keep.md\nold/\n",
        "docs/drafts/.gitignore": "!kept.draft.md\n",
        "handbook/mkdocs.yml": "site_name: Handbook\n",
    })
    monkeypatch.chdir(tmp_path)
    return tmp_path


def checked(paths=(".",), **options) -> list[str]:
    return check_paths(list(paths), Settings(**options)).pages


def test_check_dot_in_a_repository_checks_only_the_pages_a_user_means(repo, capsys):
    # a link to a folder walked already adds nothing: handbook/ is walked once, under its own name
    if sys.platform != "win32":
        (repo / "docs" / "linked").symlink_to(repo / "handbook")
    code = main(["check", "--no-cache", "--format", "json", "."])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert sorted({f["path"] for f in report["findings"]}) == sorted(CHECKED)
    assert report["summary"]["pages"] == len(CHECKED)
    assert checked() == CHECKED  # in the walk's order: a folder's pages, then each subfolder's


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_agrees_on_what_it_ignores(repo):
    shutil.rmtree(repo / ".git")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # no user's excludesFile
    subprocess.run(["git", "init", "-q", "."], check=True, env=env)
    listed = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "*.md"],
                            check=True, capture_output=True, text=True, env=env).stdout.split()
    git_sees = {path for path in listed if not path.startswith((".venv/", "venv/", "node_modules/", ".github/"))
                and "__pycache__/" not in path and path != "handbook/site/intro.md"}
    assert git_sees == set(CHECKED)
    assert set(checked()) == git_sees


def test_the_default_excludes_apply_at_any_depth(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folders = [".git", ".venv", "venv", "node_modules", "__pycache__", ".oo-jwt-cache", ".tox"]
    write(tmp_path, {f"{above}{name}/x.md": BROKEN for name in folders for above in ("", "a/", "a/b/")})
    write(tmp_path, {"a/b/page.md": BROKEN, "a/b/mkdocs.yml": "site_name: B\n", "a/b/site/x.md": BROKEN,
                     "a/site/page.md": BROKEN})
    assert checked() == ["a/b/page.md", "a/site/page.md"]


def test_the_gitignore_files_above_the_walked_folder_apply(repo, monkeypatch):
    assert checked(["docs"]) == ["docs/page.md", "docs/api/keep.md", "docs/drafts/kept.draft.md"]
    monkeypatch.chdir(repo / "docs" / "drafts")
    assert checked() == ["kept.draft.md"]  # *.draft.md from two folders up, !kept.draft.md from here


def test_respect_gitignore_false_walks_what_gitignore_ignores_but_not_the_defaults(repo):
    pages = checked(respect_gitignore=False)
    assert {"site/index.md", "docs/notes.draft.md", "docs/api/gone.md", "docs/api/old/keep.md"} <= set(pages)
    assert not {".venv/lib/x.md", "node_modules/p/README.md", "handbook/site/intro.md"} & set(pages)


def test_extend_exclude_adds_globs_relative_to_the_root(repo, monkeypatch):
    assert checked(extend_exclude=("docs/api/", "intro.md")) == [
        "README.md", "docs/page.md", "docs/drafts/kept.draft.md", "web/site/docs/page.md"]
    # relative to the root (the config file's folder), wherever the command runs from
    monkeypatch.chdir(repo / "docs")
    assert checked(root=repo, extend_exclude=("/docs/api/",)) == ["page.md", "drafts/kept.draft.md"]
    assert checked(root=repo, extend_exclude=("/api/",)) == ["page.md", "api/keep.md", "drafts/kept.draft.md"]


def test_exclude_replaces_the_defaults(repo):
    pages = checked(exclude=("docs/",))
    assert not any(page.startswith("docs/") for page in pages)
    # no default left: virtual environments, hidden folders and the build output beside mkdocs.yml are walked
    assert {".venv/lib/x.md", "node_modules/p/README.md", ".github/ISSUE.md", "handbook/site/intro.md"} <= set(pages)
    assert "site/index.md" not in pages  # .gitignore still applies


def test_exclude_globs_on_the_command_line(repo, capsys):
    argv = ["check", "--no-cache", "--format", "json", "--extend-exclude", "web/", "--extend-exclude", "*.draft.md", "."]
    code = main(argv)
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert sorted({f["path"] for f in report["findings"]}) == ["README.md", "docs/api/keep.md", "docs/page.md",
                                                               "handbook/docs/intro.md"]


def test_a_file_given_by_name_is_checked_even_if_excluded_unless_force_exclude(repo):
    write(repo, {"handbook/mysite/p.md": BROKEN})
    given = ["handbook/mysite/p.md", "docs/notes.draft.md", "site/index.md", ".venv/lib/x.md", "handbook/site/intro.md",
             "docs/api/keep.md", "web/site/docs/page.md", "docs/api/old/keep.md", "docs/page.md"]
    assert checked(given, extend_exclude=("docs/page.md",)) == given
    # pre-commit passes the files it sees one by one: the excludes and .gitignore apply to them too
    assert checked(given, extend_exclude=("docs/page.md",), force_exclude=True) == [
        "handbook/mysite/p.md", "docs/api/keep.md", "web/site/docs/page.md"]
    assert checked(["./site/index.md", str(repo / "docs" / "notes.draft.md")], force_exclude=True) == []
    assert checked(given, force_exclude=True, respect_gitignore=False, exclude=()) == given


def test_a_folder_given_by_name_is_walked_even_if_excluded_and_the_excludes_apply_below_it(repo):
    write(repo, {"node_modules/p/node_modules/q/README.md": BROKEN, "node_modules/p/docs/x.md": BROKEN,
                 "site/.hidden/x.md": BROKEN, "site/sub/y.md": BROKEN, "site/n.draft.md": BROKEN})
    assert checked(["node_modules/p"]) == ["node_modules/p/README.md", "node_modules/p/docs/x.md"]
    assert checked(["site"]) == ["site/index.md", "site/sub/y.md"]  # not .hidden/ nor *.draft.md
    assert checked(["handbook/site"]) == ["handbook/site/intro.md"]
    assert checked(["node_modules/p", "site", "handbook/site", ".venv", "docs"], force_exclude=True) == [
        "docs/page.md", "docs/api/keep.md", "docs/drafts/kept.draft.md"]


def test_oo_jwt_fix_walks_the_same_pages(repo):
    run = fix_paths(["."], Settings(), write=False, environ={"OO_JWT_SECRET": "s" * 40})
    assert run.result.pages == CHECKED


def test_an_exclude_glob_pathspec_cannot_read_is_a_one_line_error(repo, capsys):
    assert main(["check", "--no-cache", "--extend-exclude", "docs/", "--extend-exclude", "!", "."]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("oo-jwt: error: --extend-exclude: '!' is not a gitignore-style glob")
    assert len(err.splitlines()) == 1


# ------------------------------------------------------------------ nothing skipped silently
# A gate that skips pages without saying so disagrees with the site: MkDocs builds the folders a
# link leads to, and a folder that cannot be listed hides every page in it.


def _json_check(*argv: str, cwd: Path | None = None, prefix: tuple[str, ...] = ()) -> tuple[int, dict, str]:
    """`oo-jwt check --format json` in a subprocess: (exit code, report, stderr). The timeout only
    guards a hang (a link loop walked forever)."""
    proc = subprocess.run([*prefix, sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--format", "json", *argv],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")})
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


def _paths(report: dict) -> list[str]:
    return sorted(f["path"] for f in report["findings"])


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links to folders")
def test_a_folder_reached_through_a_link_is_checked_once_and_link_loops_end(tmp_path):
    write(tmp_path, {"docs/real/a.md": BROKEN, "shared/b.md": BROKEN, "shared/sub/c.md": BROKEN})
    (tmp_path / "docs" / "shared").symlink_to(tmp_path / "shared")  # outside the walked folder: MkDocs builds it
    (tmp_path / "docs" / "alias").symlink_to(tmp_path / "docs" / "real")  # walked already: not again
    (tmp_path / "docs" / "self").symlink_to(".")  # loops: each must end, no page twice
    (tmp_path / "docs" / "real" / "up").symlink_to("..")
    (tmp_path / "shared" / "back").symlink_to(tmp_path / "docs")
    (tmp_path / "shared" / "sub" / "twice").symlink_to(tmp_path / "shared")
    (tmp_path / "docs" / "gone").symlink_to(tmp_path / "nowhere")  # dangling: neither a folder nor a page
    for jobs in ("1", "2"):  # in process, and through the looker process
        code, report, err = _json_check("--jobs", jobs, "docs", cwd=tmp_path)
        assert code == 1, err
        # one finding per page: each page once, the linked folder's under the link's name
        assert _paths(report) == ["docs/real/a.md", "docs/shared/b.md", "docs/shared/sub/c.md"]
    assert checked([str(tmp_path / "docs")]) == [str(tmp_path / "docs" / "real" / "a.md"), str(tmp_path / "docs" / "shared" / "b.md"),
                                                 str(tmp_path / "docs" / "shared" / "sub" / "c.md")]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links to folders")
def test_the_excludes_and_gitignore_apply_to_a_link_as_to_a_folder(tmp_path, monkeypatch):
    write(tmp_path, {"docs/a.md": BROKEN, "elsewhere/x.md": BROKEN, "docs/.gitignore": "ignored/\n"})
    (tmp_path / ".git").mkdir()
    for name in ("node_modules", ".hidden", "ignored", "kept"):
        (tmp_path / "docs" / name).symlink_to(tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    assert checked(["docs"]) == ["docs/a.md", "docs/kept/x.md"]


def test_a_folder_that_cannot_be_listed_is_an_error_not_a_silent_skip(tmp_path):
    write(tmp_path, {"docs/a.md": "# fine\n", "docs/locked/b.md": BROKEN, "docs/locked/more/c.md": BROKEN})
    locked = tmp_path / "docs" / "locked"
    try:
        prefix = unlistable(locked)
        for jobs in ("1", "2"):
            code, report, err = _json_check("--jobs", jobs, "docs", cwd=tmp_path, prefix=prefix)
            assert code == 1, err  # not "no problems": its pages were never checked
            (finding,) = report["findings"]
            assert (finding["path"], finding["rule"], finding["severity"]) == ("docs/locked", "page-unreadable", "error")
            assert "cannot be listed" in finding["message"] and "Permission denied" in finding["message"]
        code, report, err = _json_check("docs/locked", cwd=tmp_path, prefix=prefix)  # the folder given by name
        assert code == 1 and _paths(report) == ["docs/locked"], err
    finally:
        locked.chmod(0o755)


def test_the_default_excludes_are_matched_without_pathspec_and_as_pathspec_would(tmp_path, monkeypatch):
    """The default excludes are plain folder names: a walk of a tree with no .gitignore never
    imports pathspec (about 13 ms), and leaves out exactly what pathspec would leave out."""
    names = [".git", ".venv", "venv", "node_modules", "__pycache__", ".oo-jwt-cache", ".tox", ".a.b", "venvs",
             "x.venv", "node_modules2", "my venv", "docs", "a.b", "-", "..."]
    write(tmp_path, {f"{above}{name}/{page}": BROKEN for name in names for above in ("", "a/", "a/.c/")
                     for page in ("x.md", ".hidden.md", "venv.md")})
    monkeypatch.chdir(tmp_path)
    default = checked()
    # a glob that matches nothing but is not a folder name: matched by pathspec, with the defaults
    assert checked(extend_exclude=("*.nothing",)) == default
    assert "a/venvs/x.md" in default and "a/x.venv/.hidden.md" in default and not any("/.c/" in p for p in default)
    probe = ("import sys; from mkdocs_oo_jwt.cli import main; code = main(['check', '--no-cache', '--jobs', '1', '.']); "
             "print(code, 'pathspec' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.stdout.splitlines()[-1] == "1 False", run.stderr
    (tmp_path / "a" / ".gitignore").write_text("venvs/\n", encoding="utf-8")  # a .gitignore needs pathspec
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.stdout.splitlines()[-1] == "1 True", run.stderr


@pytest.mark.parametrize("config", ["mkdocs.yml", "mkdocs.yaml", "properdocs.yml", "properdocs.yaml", "zensical.toml"])
def test_the_build_output_beside_any_generators_config_is_left_out(tmp_path, monkeypatch, config):
    """Each generator builds into site/ beside the config file it reads (any of the names its command
    looks for): that copy is left out, the sources are checked."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"book/docs/page.md": BROKEN, "book/site/page.md": BROKEN, f"book/{config}": "site_name: B\n"})
    assert checked() == ["book/docs/page.md"]
