"""Issue acceptance: `oo-jwt fix` on a copy of the seed pages cures every stale token, changes
only token characters, and a second run changes nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jwt

from mkdocs_oo_jwt.cli import main

SEEDS = Path(__file__).parent / "pages" / "seeds"
SECRET = "oo-jwt-test-secret-0123456789abcdef"
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def test_fix_on_the_seeds(tmp_path, monkeypatch, capsys):
    for name in ("OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs, ignore=shutil.ignore_patterns("*.json"))
    for page in docs.glob("*.md"):
        page.chmod(0o644)  # a writer's working copy, whatever the fixtures' mode
    before = {p.name: p.read_bytes() for p in docs.glob("*.md")}

    assert main(["fix", "docs"]) == 1  # something changed
    capsys.readouterr()
    after = {p.name: p.read_bytes() for p in docs.glob("*.md")}
    for name, old in before.items():
        new = after[name]
        assert JWT.sub(b"<T>", old) == JWT.sub(b"<T>", new), name  # only token characters changed
        assert len(JWT.findall(old)) == len(JWT.findall(new))
    changed = sum(a != b for name in before for a, b in zip(JWT.findall(before[name]), JWT.findall(after[name])))
    assert changed == 24  # every JWT of the seeds is re-signed (all were signed with the empty key)
    for token in (t.decode() for page in after.values() for t in JWT.findall(page)):
        jwt.decode(token, SECRET, algorithms=["HS256"])

    assert main(["check", "--no-cache", "--format", "json", "docs"]) == 1  # schema errors remain
    report = json.loads(capsys.readouterr().out)
    rules = {f["rule"] for f in report["findings"]}
    assert not rules & {"token-payload-mismatch", "token-signature", "token-weak-secret"}
    assert "request-mismatch" in rules  # the GET path of 000 is the request's fault, not the token's
    assert "schema" in rules

    assert main(["fix", "docs"]) == 1  # nothing to change, errors remain
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in docs.glob("*.md")} == after


def test_keep_claims_keeps_the_old_tokens_time_claims_only_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    example = {"c": "info", "key": "k2"}
    old = jwt.encode({"payload": {"c": "info", "key": "k1"}, "iat": 1700000000}, SECRET, algorithm="HS256")
    page = tmp_path / "command.md"
    text = (
        "# Command service\n\n```http\nPOST /command HTTP/1.1\nHost: documentserver\n"
        f"Authorization: Bearer {old}\n\n{json.dumps(example)}\n```\n"
    )
    for keep, expected in ((False, {"payload": example}), (True, {"payload": example, "iat": 1700000000})):
        page.write_text(text)
        (tmp_path / "pyproject.toml").write_text(f"[tool.oo-jwt]\nkeep_claims = {str(keep).lower()}\n")
        assert main(["fix", str(page)]) == 1
        capsys.readouterr()
        new = JWT.search(page.read_bytes()).group().decode()
        assert new == jwt.encode(expected, SECRET, algorithm="HS256")  # PyJWT's bytes, example key order
