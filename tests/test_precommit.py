"""The pre-commit hooks, for real: ``pre-commit try-repo`` on this repository, in a throwaway git repo.

pre-commit builds the hook's own virtualenv from this repository with pip (the package index must be
reachable), so the acceptance test takes a few tens of seconds; it is marked ``slow`` (deselect with
``-m "not slow"``) and runs by default.

``try-repo`` clones the repository at HEAD and adds *tracked* uncommitted changes only. On a clean
clone (CI) the repository itself is used. In a working tree with uncommitted or untracked package
files, the tree as it is on disk (tracked and untracked, minus what .gitignore ignores) is first
committed to a snapshot repository, so the test runs the code it sits beside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
HOOK_FILES = ("mkdocs_oo_jwt", "schemas", "pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md",
              ".pre-commit-hooks.yaml")

SECRET = "pre-commit-test-secret-0123456789-abcdefgh"  # 42 bytes, test only
STALE = jwt.encode({"payload": {**CONVERSION, "url": "http://example.com/another-document.docx"}}, SECRET, algorithm="HS256")
FRESH = jwt.encode({"payload": CONVERSION}, SECRET, algorithm="HS256")

PAGE = f"""# Conversion\r
\r
Sample of the request to convert the document:  \r
\r
```http\r
POST /converter HTTP/1.1\r
Host: documentserver\r
Content-Type: application/json\r
Authorization: Bearer {STALE}\r
\r
{json.dumps(CONVERSION, indent=4).replace(chr(10), chr(13) + chr(10))}\r
```\r
"""


def _load_manifest() -> list[dict]:
    from pre_commit.clientlib import load_manifest

    return load_manifest(str(MANIFEST))


# ------------------------------------------------------------------ the manifest (fast)


def test_manifest_is_valid_and_has_both_hooks():
    hooks = {h["id"]: h for h in _load_manifest()}
    assert set(hooks) == {"oo-jwt-check", "oo-jwt-fix"}
    assert hooks["oo-jwt-check"]["entry"] == "oo-jwt check --force-exclude"
    assert hooks["oo-jwt-fix"]["entry"] == "oo-jwt fix --force-exclude --placeholders=keep"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is True and hook["require_serial"] is False


@pytest.mark.parametrize(
    "name,matched",
    [("docs/index.md", True), ("README.markdown", True), ("docs/page.mdx", True), ("docs/INDEX.MD", True),
     ("mkdocs.yml", False), ("docs/notes.txt", False), ("docs/page.rst", False), ("api.json", False)],
)
def test_manifest_matches_the_pages_it_claims(name, matched, tmp_path):
    """The hooks select the files the engine treats as pages (identify's tags, files and exclude)."""
    from identify.identify import tags_from_path

    from mkdocs_oo_jwt.run.files import PAGE_SUFFIXES

    assert name.lower().endswith(PAGE_SUFFIXES) == matched
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# A page\n", encoding="utf-8")
    tags = tags_from_path(str(path))
    for hook in _load_manifest():
        selected = (
            (not hook["types_or"] or bool(tags & set(hook["types_or"])))
            and set(hook["types"]) <= tags
            and not set(hook["exclude_types"]) & tags
            and re.search(hook["files"], name) is not None
            and not (hook["exclude"] and re.search(hook["exclude"], name))
        )
        assert selected == matched, (hook["id"], name)


def test_importing_the_command_loads_nothing_heavy():
    """The hooks start fast: the command imports the engine lazily."""
    heavy = ("jsonschema", "referencing", "markdown_it", "mdit_py_plugins", "jwt", "mkdocs", "yaml", "tree_sitter")
    code = "import sys, mkdocs_oo_jwt.cli; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not set(heavy) & set(loaded)


# ------------------------------------------------------------------ the real thing (slow)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in SECRET_VARS}
    env.update(
        GIT_AUTHOR_NAME="oo-jwt tests", GIT_AUTHOR_EMAIL="tests@example.com",
        GIT_COMMITTER_NAME="oo-jwt tests", GIT_COMMITTER_EMAIL="tests@example.com",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.update(extra)
    return env


def _git(*args: str, cwd: Path, env=None) -> str:
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=cwd, env=env or _env(), capture_output=True, text=True,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def _hook_repo(tmp_path_factory) -> Path:
    """ROOT if the hook's files are all committed, else a snapshot of the working tree."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, env=_env(), capture_output=True).returncode:
        pytest.skip(f"{ROOT} is not a git checkout")
    dirty = _git("status", "--porcelain", "--untracked-files=all", "--", *HOOK_FILES, cwd=ROOT)
    if not dirty.strip():
        return ROOT
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if not (source.exists() or source.is_symlink()) or source.is_dir():
            continue  # deleted in the working tree, or a submodule
        (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, snapshot / rel, follow_symlinks=False)
    _git("init", "-q", cwd=snapshot)
    _git("add", "-A", cwd=snapshot)
    _git("commit", "-q", "--no-verify", "-m", "snapshot of the working tree", cwd=snapshot)
    return snapshot


def _try_repo(repo: Path, hook: str, cwd: Path, home: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook, "--files", "docs/page.md", "--color", "never"],
        cwd=cwd, env=_env(OO_JWT_SECRET=SECRET, PRE_COMMIT_HOME=str(home)), capture_output=True, text=True,
        timeout=900,  # a hang guard: the four runs of the test take 50 s together on a quiet machine
    )
    output = done.stdout + done.stderr
    assert SECRET not in output, "the secret was printed"
    return done.returncode, output


@pytest.mark.slow
def test_hooks_check_then_fix_then_pass(tmp_path, tmp_path_factory):
    pytest.importorskip("pre_commit")
    repo = _hook_repo(tmp_path_factory)
    work = tmp_path / "site"
    (work / "docs").mkdir(parents=True)
    page = work / "docs" / "page.md"
    page.write_bytes(PAGE.encode())
    _git("init", "-q", cwd=work)
    _git("add", "docs/page.md", cwd=work)
    _git("commit", "-q", "--no-verify", "-m", "a page with a stale token", cwd=work)
    home = tmp_path / "pre-commit-home"

    rc, out = _try_repo(repo, "oo-jwt-check", work, home)
    assert rc == 1, out
    assert re.search(r"oo-jwt check\.+Failed", out), out
    assert re.search(r"docs/page\.md:9:\d+: error token-payload-mismatch \[conversion\] /payload/url", out), out
    assert page.read_bytes() == PAGE.encode()  # check changes nothing

    rc, out = _try_repo(repo, "oo-jwt-fix", work, home)
    assert rc == 1, out
    assert re.search(r"oo-jwt fix\.+Failed", out), out
    assert "files were modified by this hook" in out, out
    assert "fixed docs/page.md: 1 token" in out, out
    assert page.read_bytes() == PAGE.replace(STALE, FRESH).encode()  # only the token changed

    rc, out = _try_repo(repo, "oo-jwt-check", work, home)
    assert rc == 0, out
    assert re.search(r"oo-jwt check\.+Passed", out), out
    rc, out = _try_repo(repo, "oo-jwt-fix", work, home)
    assert rc == 0, out
    assert page.read_bytes() == PAGE.replace(STALE, FRESH).encode()
