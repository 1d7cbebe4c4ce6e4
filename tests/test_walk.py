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
    # as before: a link to a folder is not followed (handbook/ is walked once, as itself)
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
