"""The plugin never writes a secret into a message, so it has nothing to redact.

It used to replace the secret's value in every log line by ``[secret]``: with a secret that is
also a word (``OO_JWT_SECRET=conversion``) the flow name in a public CI log became ``[secret]``,
telling every reader the secret; ``secret`` became ``[[[secret]]]`` (one pass per role). Now no
message is made from a secret, and these tests show it: the log of a build is the same whatever
the secret's value (a common word, a word of the messages, a single letter), and a recognisable
secret never appears in a verbose build's output, not even when a checker failure's exception
quotes it.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS, conversion_page

OTHER = "not-the-docs-secret-0123456789-abcdefghijkl"  # signs the page's token: a wrong signature
CANARY = "CANARY-plugin-6d1e0b7a-do-not-leak-0123456789"


def site(root: Path) -> Path:
    """A site of one conversion page whose token has a wrong signature (one token-signature error)."""
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "conversion.md").write_text(conversion_page(jwt.encode(CONVERSION, OTHER)), encoding="utf-8")
    config = root / "mkdocs.yml"
    config.write_text("site_name: secrets\nplugins:\n  - oo-jwt\n", encoding="utf-8")
    return config


def build_log(config: Path, site_dir: Path, secret: str, monkeypatch, caplog) -> list[str]:
    """The plugin's log records (DEBUG and up) of an in-process build with ``secret`` for every role."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", secret)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.mkdocs_oo_jwt"):
        build(load_config(str(config), site_dir=str(site_dir)))
    return [r.getMessage() for r in caplog.records if r.name.startswith("mkdocs.plugins.mkdocs_oo_jwt") and "plugin time" not in r.getMessage()]


# Words of the plugin's own messages, a flow name, a single letter: each one as the secret.
COMMON_WORDS = ["conversion", "secret", "e", "token", "error", "oo-jwt", "1"]


@pytest.mark.parametrize("word", COMMON_WORDS)
def test_a_secret_that_is_a_common_word_leaves_every_message_intact(word, tmp_path, monkeypatch, caplog):
    config = site(tmp_path / "site")
    # a secret of the same length made of nothing the messages hold: the same findings and notices
    unrelated = ("ZQXJ" * 8)[: len(word)]
    expected = build_log(config, tmp_path / "a", unrelated, monkeypatch, caplog)
    got = build_log(config, tmp_path / "b", word, monkeypatch, caplog)
    assert any("token-signature [conversion]" in m for m in expected), expected
    assert got == expected
    assert not any("[secret]" in m for m in got)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.update(extra)
    return env


def test_the_flow_name_stays_in_a_ci_log_when_it_is_the_secret(tmp_path):
    config = site(tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(tmp_path / "out")],
        capture_output=True, text=True, env=_env(OO_JWT_SECRET="conversion"), timeout=300,  # a hang guard
    )
    assert result.returncode == 0, result.stderr
    assert "conversion.md:" in result.stderr and "token-signature [conversion]" in result.stderr, result.stderr
    assert "[secret]" not in result.stderr


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, base64.urlsafe_b64encode(raw).rstrip(b"="), base64.b64encode(raw).rstrip(b"="), raw.hex().encode()]


def test_a_verbose_build_with_a_wrong_signature_never_shows_the_secret(tmp_path):
    config = site(tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-v", "-f", str(config), "-d", str(tmp_path / "out")],
        capture_output=True, env=_env(OO_JWT_SECRET=CANARY), timeout=300,  # a hang guard
    )
    output = result.stdout + result.stderr
    assert b"token-signature" in output, output[-2000:]
    for form in _forms(CANARY):
        assert form not in output
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert all(form not in path.read_bytes() for form in _forms(CANARY)), path


def _explode_with_the_secret(text, secret, alg):  # stands for verifies(): a library error quoting its key
    raise RuntimeError(f"cannot use key {secret!r} for {alg}")


def test_a_checker_failure_is_a_finding_that_never_shows_its_message(tmp_path, monkeypatch, caplog):
    """The exception of a checker bug may quote the secret: the build logs an internal-error finding
    with its class only (as the command does), checks the other pages, and its debug details are
    the traceback's frames without the message."""
    import mkdocs_oo_jwt.rules.token as token_rules

    monkeypatch.setattr(token_rules, "verifies", _explode_with_the_secret)
    config = site(tmp_path / "site")
    (tmp_path / "site" / "docs" / "other.md").write_text("# Other\n\n```json\n{\"a\": 1,}\n```\n", encoding="utf-8")
    messages = build_log(config, tmp_path / "out", CANARY, monkeypatch, caplog)
    text = "\n".join(messages)
    assert "conversion.md:1:1: internal-error" in text and "RuntimeError" in text, text
    assert "other.md:" in text and "json-syntax" in text  # the other page was checked
    assert all(form.decode() not in text for form in _forms(CANARY)), text


@pytest.mark.parametrize("option", ["fail_on: !ENV OO_JWT_SECRET", "disable: [!ENV [OO_JWT_SECRET]]"])
@pytest.mark.parametrize("front_end", ["command", "plugin", "extension"])
def test_an_option_given_a_secret_by_env_is_refused_without_quoting_it(option, front_end, tmp_path):
    """`fail_on: !ENV OO_JWT_SECRET` (a slip of the pen): the value is refused, and the message,
    which quotes a wrong value it is given in the file (`not 'waring'`), does not quote this one."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    entry = ("markdown_extensions:\n  - mkdocs_oo_jwt.extension:\n" if front_end == "extension"
             else "plugins:\n  - oo-jwt:\n")
    (tmp_path / "mkdocs.yml").write_text(f"site_name: s\n{entry}      {option}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS} | {"OO_JWT_SECRET": CANARY}
    if front_end == "command":
        command = [sys.executable, "-m", "mkdocs_oo_jwt", "check", "--config", "mkdocs.yml", "docs"]
    else:
        pytest.importorskip("mkdocs")
        command = [sys.executable, "-m", "mkdocs", "build", "-q"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "not shown: a value from the environment can be a secret" in output, output
    assert CANARY not in output and "CANARY" not in output
