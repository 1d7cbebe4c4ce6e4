"""The command as a CI gate sees it: exit codes, configuration, user flows, one-line errors."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import jwt
import pytest

from mkdocs_oo_jwt.cli import main

PAGES = Path(__file__).parent / "pages"
SECRET = "oo-jwt-test-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("OO_JWT_SECRET", "OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["check", "--no-cache", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(PAGES / "seeds", folder, ignore=shutil.ignore_patterns("*.json"))
    return folder


def test_exit_codes_and_fail_on(tmp_path, capsys):
    seeds(tmp_path)
    code, out, _ = run(capsys)  # default path: docs/
    assert code == 1 and out.rstrip().endswith("in 5 pages")
    assert run(capsys, "--fail-on", "never")[0] == 0
    clean = tmp_path / "clean.md"
    clean.write_text("# Nothing to see\n\nNo examples here.\n")
    assert run(capsys, str(clean))[0] == 0
    # warnings only: 0 by default, 1 with --fail-on warning
    weak = tmp_path / "weak.md"
    shutil.copy(PAGES / "rules" / "token-weak-secret-fail.md", weak)
    assert run(capsys, str(weak))[0] == 0
    assert run(capsys, "--fail-on", "warning", str(weak))[0] == 1


def test_text_lines_and_json_paths_as_given(tmp_path, capsys):
    folder = seeds(tmp_path)
    _, out, _ = run(capsys, "docs/")
    assert "docs/seed002.md:77:15: error token-payload-mismatch [conversion] /url: " in out
    _, out, _ = run(capsys, "--format", "json", str(folder))
    report = json.loads(out)
    assert report["version"] == 1 and report["summary"]["pages"] == 5
    paths = {f["path"] for f in report["findings"]}
    assert f"{folder}/seed000.md" in paths
    first = report["findings"][0]
    assert set(first) == {"path", "line", "column", "end_line", "end_column", "rule", "severity", "flow", "pointer", "message"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["no-such-folder"], "no-such-folder: no such file or folder"),
        (["--disable", "no-such-rule", "."], "unknown rule id(s): no-such-rule"),
        (["--target-version", "seven", "."], "cannot read version"),
        (["--config", "missing.toml", "."], "missing.toml: config file not found"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_secret_on_the_command_line_is_refused(capsys):
    code, _, err = run(capsys, "--secret", "hunter2-hunter2", ".")
    assert code == 2 and "environment" in err and "hunter2" not in err


def test_pyproject_settings_apply(tmp_path, capsys):
    seeds(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.oo-jwt]\ndisable = ["token-weak-secret"]\nfail_on = "error"\n')
    _, out, _ = run(capsys)
    assert "token-weak-secret" not in out and "token-payload-mismatch" in out
    (tmp_path / "pyproject.toml").write_text('[tool.oo-jwt]\nversion = "7.0"\n')
    _, out, _ = run(capsys, "docs/seed001.md")
    assert " schema " not in out  # the 7.1 list does not apply to 7.0 docs
    (tmp_path / "pyproject.toml").write_text("[tool.oo-jwt\nbroken")
    code, _, err = run(capsys)
    assert code == 2 and "not valid TOML" in err
    (tmp_path / "pyproject.toml").write_text('[tool.oo-jwt]\nfail-on = "sometimes"\n')
    assert run(capsys)[0] == 2


def test_mkdocs_yml_plugin_section_as_config(tmp_path, capsys):
    seeds(tmp_path)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\ntheme:\n  name: material\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "plugins:\n  - search\n  - oo-jwt:\n      disable: [token-weak-secret]\n"
        "      secrets:\n        inbox: !ENV [MY_INBOX_SECRET, null]\n"
    )
    _, out, _ = run(capsys, "--config", "mkdocs.yml")
    assert "token-weak-secret" not in out and "token-payload-mismatch" in out
    (tmp_path / "mkdocs.yml").write_text("plugins:\n  - oo-jwt:\n      secrets:\n        inbox: literal-secret-value\n")
    code, _, err = run(capsys, "--config", "mkdocs.yml")
    assert code == 2 and "!ENV" in err and "literal-secret-value" not in err
    # MkDocs reads the last item of an !ENV list as a default value: a secret written in the file
    (tmp_path / "mkdocs.yml").write_text("plugins:\n  - oo-jwt:\n      secrets:\n        inbox: !ENV [MY_INBOX_SECRET, a-default-secret]\n")
    code, _, err = run(capsys, "--config", "mkdocs.yml")
    assert code == 2 and "end the list with null" in err and "a-default-secret" not in err


def test_secret_roles_and_the_notes(tmp_path, capsys, monkeypatch):
    page = tmp_path / "p.md"
    shutil.copy(PAGES / "rules" / "token-signature-pass.md", page)
    code, out, _ = run(capsys, str(page))
    assert "signatures not checked" in out  # no secret: one note, no signature finding
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    code, out, _ = run(capsys, str(page))
    assert code == 0 and "token-signature" not in out and "signatures not checked" not in out
    monkeypatch.setenv("OO_JWT_SECRET_INBOX", "short")
    monkeypatch.setenv("OO_JWT_SECRET_OUTBOX", "short")
    monkeypatch.setenv("OO_JWT_SECRET_BROWSER", "short")
    code, out, err = run(capsys, str(page))
    assert "token-signature" in out and "shorter than 32 bytes" in out
    assert "short" not in out.replace("shorter", "")


def test_a_user_flow_is_checked_like_a_bundled_one(tmp_path, capsys, monkeypatch):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "sign-request.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://docs.example/flows/sign-request.json",
        "x-oo-jwt": {"flow": "sign-request", "role": "inbox", "token": "jwt", "transports": ["body"],
                     "endpoints": ["/sign"], "methods": ["POST"], "hints": ["signing request"]},
        "type": "object",
        "properties": {"document": {"$ref": "https://mkdocs-oo-jwt.invalid/schemas/common.json#/$defs/url"}},
        "required": ["document"],
    }))
    token = jwt.encode({"document": "https://example.com/b.docx"}, SECRET, algorithm="HS256")
    page = tmp_path / "sign.md"
    page.write_text(
        "# Signing request\n\n```json\n{\"document\": \"https://example.com/a.docx\"}\n```\n\n"
        f"```http\nPOST /sign HTTP/1.1\nHost: ds\n\n{{\"token\": \"{token}\"}}\n```\n"
    )
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    code, out, _ = run(capsys, "--flows-dir", str(flows), str(page))
    assert code == 1 and "sign.md:11:" in out and "token-payload-mismatch [sign-request] /document" in out
    (flows / "bad.json").write_text('{"$id": "https://docs.example/flows/bad.json", "type": 12}')
    code, _, err = run(capsys, "--flows-dir", str(flows), str(page))
    assert code == 2 and "bad.json" in err and "not a valid JSON Schema" in err
    (flows / "bad.json").write_text('{"$id": "https://docs.example/flows/bad.json", "$ref": "https://elsewhere.example/s.json"}')
    code, _, err = run(capsys, "--flows-dir", str(flows), str(page))
    assert code == 2 and "never fetched" in err and "elsewhere.example" in err


def test_python_dash_m_runs_the_command(tmp_path):
    import subprocess
    import sys

    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "a.md"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "no problems in 1 page\n", "")


@pytest.mark.parametrize("env, color", [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, True)],
                         ids=["terminal", "NO_COLOR", "NO_COLOR-empty"])
def test_no_color_on_a_terminal(env, color, tmp_path, monkeypatch, capsys):
    """NO_COLOR (set and not empty) turns the colours off on a terminal; FORCE_COLOR turns them on anywhere."""
    from mkdocs_oo_jwt.cli import main

    page = tmp_path / "a.md"
    page.write_text('# Conversion\n\n```json\n{\n    "filetype": "docx",\n    "key": "k",\n    "outputtype": 7,\n    "url": "u"\n}\n```\n',
                    encoding="utf-8")
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["check", "--no-cache", str(page)]) == 1
    assert ("\x1b[" in capsys.readouterr().out) is color


def test_force_color_when_not_a_terminal(tmp_path, monkeypatch, capsys):
    from mkdocs_oo_jwt.cli import main

    page = tmp_path / "a.md"
    page.write_text('# Conversion\n\n```json\n{\n    "filetype": "docx",\n    "key": "k",\n    "outputtype": 7,\n    "url": "u"\n}\n```\n',
                    encoding="utf-8")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["check", "--no-cache", str(page)]) == 1
    assert "\x1b[" in capsys.readouterr().out
    assert main(["check", "--no-cache", "--color", "never", str(page)]) == 1
    assert "\x1b[" not in capsys.readouterr().out


def test_the_findings_do_not_depend_on_the_folder_the_command_runs_in(tmp_path, capsys, monkeypatch):
    """A page's place (its folders: evidence of its flows) is that of the file, not of the path
    as shown: the same page checked from the repository's root, from its own folder or by name
    gives the same findings (run from its folder, `version.md` alone once lost `command-service`)."""
    folder = tmp_path / "docs" / "command-service"
    folder.mkdir(parents=True)
    (folder / "version.md").write_text('# Version\n\nRequest:\n\n```json\n{"c": "versio"}\n```\n', encoding="utf-8")

    def findings(where: Path, *argv: str) -> list[tuple]:
        monkeypatch.chdir(where)
        code = main(["check", "--no-cache", "--format", "json", *argv])
        out = json.loads(capsys.readouterr().out)["findings"]
        return [code] + [(f["rule"], f["line"], f["flow"]) for f in out]

    expected = findings(tmp_path, "docs")
    assert expected == [1, ("schema", 6, "command")]
    assert findings(folder, "version.md") == findings(folder, ".") == findings(tmp_path / "docs", "command-service") == expected
