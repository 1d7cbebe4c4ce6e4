"""The findings cache: a warm run gives the same report; any change that could change findings
(the page, a schema, the settings, the secret, the tool) starts afresh; the secret is never stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jwt
import pytest

from mkdocs_oo_jwt.cli import main
from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.settings import Settings

SECRET = "oo-jwt-test-secret-0123456789abcdef"
PAGE = """# Conversion

Sample parameters of request to convert the document:

```json
{{"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx"}}
```

Sample token

```
{token}
```
"""


def write_page(folder: Path, url: str = "https://example.com/a.docx", secret: str = SECRET) -> Path:
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": url}, secret, algorithm="HS256")
    page = folder / "docs" / "conversion.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(PAGE.format(token=token), encoding="utf-8")
    return page


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
    cache = tree / ".oo-jwt-cache"
    prose = tree / "docs" / "about.md"
    prose.write_text("# About\n\nNothing to check here.\n", encoding="utf-8")
    cold = run(tree, cache)
    stored = json.loads((cache / "findings-v2.json").read_text())
    assert len(stored["entries"]) == 1  # the conversion page's findings; the prose page has none to keep
    assert stored["stats"][str(prose)][3] == ""  # noted as holding nothing to check
    from mkdocs_oo_jwt.run import pipeline

    with monkeypatch.context() as m:
        m.setattr(pipeline, "read_bytes", lambda *a: pytest.fail("an unchanged page was read again"))
        assert run(tree, cache) == cold
    # the page now holds a stale token under an example: it is read and checked
    token = jwt.encode({"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "http://old"}, SECRET, algorithm="HS256")
    prose.write_text(PAGE.format(token=token), encoding="utf-8")
    assert [(r[0], r[1]) for r in run(tree, cache)] == [("token-payload-mismatch", 12)] * 2  # about.md, then conversion.md
