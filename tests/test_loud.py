"""Loud, never silent (issue 14): what a newcomer sees when oo-jwt is set up but would not run, and
the messages a first build prints. Real files in tmp_path, the real ``oo-jwt`` and ``mkdocs build``
in subprocesses; what is asserted is what a user reads on stderr, or the bytes on disk.

- ``oo-jwt check --config mkdocs.yml`` warns (one line on stderr, the exit code unchanged) when
  Zensical would build the site without running oo-jwt: Zensical drops every plugin it does not
  know, and runs only the Markdown extensions of the configuration it reads.
- A plugin log line names the tool once; a short secret is one warning however many roles share
  it; the build's summary says what its numbers count.
- The ``oo-jwt-fix`` pre-commit hook keeps ``<oo-jwt>`` placeholders (a writer's choice to sign at
  build time) unless asked to fill them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml
from pagekit import CONVERSION, SECRET_VARS, conversion_page

import mkdocs_oo_jwt
from mkdocs_oo_jwt import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
SECRET = "loud-test-secret-0123456789-abcdefghijkl"  # 40 bytes, test only
EXTENSION_TABLE = '[project.markdown_extensions."mkdocs_oo_jwt.extension"]'
OO_JWT = [sys.executable, "-m", "mkdocs_oo_jwt"]


def _env(path_dirs: list[Path] = (), python_path: list[Path] = (), **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and k != "PYTHONPATH"}
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), *_path_without_zensical()])
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(map(str, python_path))
    env.update(variables)
    return env


def _path_without_zensical() -> list[str]:
    """PATH less the folders that hold a ``zensical`` command (a test says whether there is one)."""
    return [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "zensical").exists()]


def _run(cmd: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    # timeout: a hang guard only
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=_env(**env), timeout=300)


def _site(tmp_path: Path, plugin: str = "  - oo-jwt\n", extensions: str = "", pages: dict[str, str] | None = None) -> Path:
    """A site folder: mkdocs.yml (``plugins:`` + ``plugin``, then ``extensions``) and docs/."""
    site = tmp_path / "site"
    (site / "docs").mkdir(parents=True)
    for name, text in (pages or {"index.md": "# Home\n\nNothing to sign here.\n"}).items():
        (site / "docs" / name).write_text(text, encoding="utf-8")
    (site / "mkdocs.yml").write_text(f"site_name: Loud\n{extensions}plugins:\n{plugin}", encoding="utf-8")
    return site


def _fake_zensical(tmp_path: Path, how: str) -> dict:
    """Zensical "installed" as the command can see it: an importable package, or a command on PATH."""
    if how == "package":
        (tmp_path / "fake-site-packages" / "zensical").mkdir(parents=True)
        (tmp_path / "fake-site-packages" / "zensical" / "__init__.py").write_text("", encoding="utf-8")
        return {"python_path": [tmp_path / "fake-site-packages"]}
    (tmp_path / "bin").mkdir()
    command = tmp_path / "bin" / "zensical"
    command.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    command.chmod(0o755)
    return {"path_dirs": [tmp_path / "bin"]}


def _check_config(site: Path, *extra: str, **env) -> subprocess.CompletedProcess:
    return _run([*OO_JWT, "check", "--no-cache", "--config", "mkdocs.yml", *extra, "docs"], site, **env)


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("oo-jwt: warning:")]


# ---------------------------------------------------------------------------------------------
# 1. oo-jwt check --config mkdocs.yml under a Zensical configuration
# ---------------------------------------------------------------------------------------------


def test_zensical_toml_without_the_extension_is_one_warning_saying_what_to_add(tmp_path):
    site = _site(tmp_path, plugin="  - oo-jwt:\n      mode: regenerate\n      fail_on: warning\n")
    (site / "zensical.toml").write_text('[project]\nsite_name = "Loud"\n', encoding="utf-8")
    result = _check_config(site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr  # a warning, not a failure: the pages were checked
    assert "no problems in 1 page" in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("oo-jwt: warning: zensical build reads zensical.toml (it comes before mkdocs.yml)")
    assert "Zensical drops the oo-jwt plugin" in line
    assert f'add {EXTENSION_TABLE} to zensical.toml with mode = "regenerate", fail_on = "warning"' in line


def test_zensical_toml_with_the_extension_is_no_warning(tmp_path):
    site = _site(tmp_path)
    (site / "zensical.toml").write_text(
        f'[project]\nsite_name = "Loud"\n\n{EXTENSION_TABLE}\nmode = "verify"\n', encoding="utf-8")
    result = _check_config(site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_zensical_toml_that_lists_the_plugin_alone_is_a_warning(tmp_path):
    """Zensical would drop ``[project.plugins.oo-jwt]`` as it drops the mkdocs.yml entry."""
    site = _site(tmp_path, extensions="markdown_extensions:\n  - mkdocs_oo_jwt.extension\n")
    (site / "zensical.toml").write_text('[project]\nsite_name = "Loud"\n\n[project.plugins.oo-jwt]\n', encoding="utf-8")
    result = _check_config(site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0
    [line] = _warnings(result.stderr)
    assert f"add {EXTENSION_TABLE} to zensical.toml" in line


@pytest.mark.parametrize("how", ["package", "command"])
def test_zensical_installed_and_mkdocs_yml_without_the_extension_is_one_warning(tmp_path, how):
    site = _site(tmp_path, plugin="  - search\n  - oo-jwt:\n      mode: regenerate\n")
    result = _check_config(site, OO_JWT_SECRET=SECRET, **_fake_zensical(tmp_path, how))
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("oo-jwt: warning: mkdocs.yml names the oo-jwt plugin but not the mkdocs_oo_jwt.extension "
                           "Markdown extension, and Zensical is installed")
    assert 'add "- mkdocs_oo_jwt.extension: {mode: regenerate}" under markdown_extensions: in mkdocs.yml' in line


def test_an_extension_listed_in_the_inherited_file_is_no_warning(tmp_path):
    """Zensical appends the child's markdown_extensions to the parent's (MkDocs would replace
    them): the parent's extension runs in its build, so no warning that it would check nothing."""
    site = _site(tmp_path, extensions="INHERIT: base.yml\nmarkdown_extensions:\n  - toc\n")
    (site / "base.yml").write_text("markdown_extensions:\n  - mkdocs_oo_jwt.extension:\n      mode: verify\n",
                                   encoding="utf-8")
    result = _check_config(site, OO_JWT_SECRET=SECRET, **_fake_zensical(tmp_path, "package"))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_zensical_installed_and_mkdocs_yml_with_the_extension_is_no_warning(tmp_path):
    site = _site(tmp_path, extensions="markdown_extensions:\n  - toc\n  - mkdocs_oo_jwt.extension:\n      mode: verify\n")
    result = _check_config(site, OO_JWT_SECRET=SECRET, **_fake_zensical(tmp_path, "package"))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_no_zensical_is_no_warning(tmp_path, monkeypatch, capsys):
    """Neither zensical.toml nor Zensical installed: MkDocs (or ProperDocs) runs the plugin. In
    process, so that a Zensical the test environment may hold is not seen."""
    site = _site(tmp_path)
    monkeypatch.chdir(site)
    monkeypatch.setattr(cli, "zensical_installed", lambda: None)
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    code = cli.main(["check", "--no-cache", "--config", "mkdocs.yml", "docs"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and "no problems in 1 page" in out


def test_the_warning_leaves_a_json_report_whole(tmp_path):
    site = _site(tmp_path)
    (site / "zensical.toml").write_text('[project]\nsite_name = "Loud"\n', encoding="utf-8")
    result = _check_config(site, "--format", "json", OO_JWT_SECRET=SECRET)
    assert json.loads(result.stdout)["findings"] == []
    assert len(_warnings(result.stderr)) == 1


def test_the_check_hook_given_a_config_warns(tmp_path):
    """The oo-jwt-check hook as the manifest runs it, with ``args: [--config, mkdocs.yml]`` and a
    staged file: the same warning."""
    hooks = {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    entry = shlex.split(hooks["oo-jwt-check"]["entry"])
    assert entry[0] == "oo-jwt"
    site = _site(tmp_path)
    (site / "zensical.toml").write_text('[project]\nsite_name = "Loud"\n', encoding="utf-8")
    result = _run([*OO_JWT, *entry[1:], "--config", "mkdocs.yml", "docs/index.md"], site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0
    assert len(_warnings(result.stderr)) == 1


# ---------------------------------------------------------------------------------------------
# 2. What a first build logs
# ---------------------------------------------------------------------------------------------

def _token(params: dict) -> str:
    return jwt.encode(params, SECRET, algorithm="HS256")


def _mkdocs_build(site: Path, **env) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "mkdocs", "build", "-d", str(site.parent / "out")], site, **env)


def _plugin_lines(stderr: str) -> list[str]:
    """The log lines of the build after MkDocs' level column (``INFO    -  ``)."""
    return [m.group(1) for m in re.finditer(r"^(?:INFO|WARNING|ERROR|DEBUG) +- +(.*)$", stderr, re.M)]


@pytest.fixture
def counted_site(tmp_path):
    """Three pages: a token that verifies, a stale one (one value changed), a placeholder."""
    stale = _token({**CONVERSION, "outputtype": "docx"})
    return _site(tmp_path, plugin="  - oo-jwt:\n      mode: regenerate\n", pages={
        "fresh.md": conversion_page(_token(CONVERSION)),
        "stale.md": conversion_page(stale),
        "placeholder.md": conversion_page("<oo-jwt>"),
    })


def test_the_plugin_names_the_tool_once_in_each_line(counted_site):
    result = _mkdocs_build(counted_site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    ours = [line for line in _plugin_lines(result.stderr) if "oo-jwt" in line or ".md:" in line]
    assert ours, result.stderr
    assert any(line.startswith("oo-jwt: stale.md:") for line in ours), ours
    for line in ours:
        assert line.startswith("oo-jwt: ") and not line.startswith("oo-jwt: oo-jwt"), line
        assert "mkdocs_oo_jwt" not in line, line


def test_the_summary_says_what_it_counts(counted_site):
    result = _mkdocs_build(counted_site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    summary = [line for line in _plugin_lines(result.stderr) if " in 3 pages" in line]
    assert summary == ["oo-jwt: 1 error, 0 warnings, 0 infos in 3 pages (2 sample tokens, 1 placeholder); "
                       "in the built pages 1 placeholder filled and 1 token re-signed"], result.stderr


def test_the_summary_of_a_verify_build_counts_the_tokens(counted_site):
    (counted_site / "mkdocs.yml").write_text("site_name: Loud\nplugins:\n  - oo-jwt\n", encoding="utf-8")
    result = _mkdocs_build(counted_site, OO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    summary = [line for line in _plugin_lines(result.stderr) if " in 3 pages" in line]
    assert summary == ["oo-jwt: 1 error, 0 warnings, 0 infos in 3 pages (2 sample tokens, 1 placeholder); "
                       "1 placeholder left as <oo-jwt> in the built pages (mode: regenerate fills them)"], result.stderr


def test_a_short_secret_of_three_roles_is_one_warning_in_a_build(counted_site):
    result = _mkdocs_build(counted_site, OO_JWT_SECRET="short")
    lines = [line for line in _plugin_lines(result.stderr) if "shorter than 32 bytes" in line]
    assert lines == ["oo-jwt: the secret from OO_JWT_SECRET (inbox, outbox and browser roles) is shorter than 32 bytes"]


def test_a_short_secret_of_three_roles_is_one_warning_in_a_check(counted_site):
    result = _run([*OO_JWT, "check", "--no-cache", "docs"], counted_site, OO_JWT_SECRET="short")
    lines = [line for line in result.stdout.splitlines() if "shorter than 32 bytes" in line]
    assert lines == ["warning: the secret from OO_JWT_SECRET (inbox, outbox and browser roles) is shorter than 32 bytes"]


def test_two_short_secrets_are_two_warnings(counted_site):
    result = _run([*OO_JWT, "check", "--no-cache", "docs"], counted_site, OO_JWT_SECRET="short", OO_JWT_SECRET_INBOX="brief")
    lines = [line for line in result.stdout.splitlines() if "shorter than 32 bytes" in line]
    assert lines == ["warning: the secret from OO_JWT_SECRET (outbox and browser roles) is shorter than 32 bytes",
                     "warning: the secret from OO_JWT_SECRET_INBOX (inbox role) is shorter than 32 bytes"]


# ---------------------------------------------------------------------------------------------
# 3. Pasting the README
# ---------------------------------------------------------------------------------------------


def _readme_block(heading: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def test_the_readme_plugin_block_builds_when_pasted(counted_site):
    """A newcomer pastes the plugin block of the README into a site that has no flows folder."""
    block = _readme_block("## The MkDocs plugin", "yaml")
    (counted_site / "mkdocs.yml").write_text("site_name: Loud\n" + block, encoding="utf-8")
    result = _mkdocs_build(counted_site, OO_JWT_SECRET=SECRET)
    assert "Aborted" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 0, result.stderr


def test_a_flows_dir_that_is_not_there_says_the_option_is_optional(counted_site):
    (counted_site / "mkdocs.yml").write_text("site_name: Loud\nplugins:\n  - oo-jwt:\n      flows_dir: flows\n", encoding="utf-8")
    result = _mkdocs_build(counted_site, OO_JWT_SECRET=SECRET)
    assert result.returncode != 0
    assert ("option 'flows_dir': flows: no such folder (relative to the configuration file's folder); "
            "flows_dir is optional: leave it out unless you add flow schemas of your own") in result.stderr, result.stderr


def test_the_pre_commit_snippets_name_the_tag_of_this_version():
    """The README's and the manifest's ``rev:`` is the tag of the version the package says it is
    (the lead tags releases ``v<version>``)."""
    rev = f"rev: v{mkdocs_oo_jwt.__version__}"
    assert rev in _readme_block("## pre-commit", "yaml")
    assert rev in MANIFEST.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# 4. The oo-jwt-fix hook and placeholders
# ---------------------------------------------------------------------------------------------


def _fix_hook(site: Path, *args: str) -> subprocess.CompletedProcess:
    hooks = {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    entry = shlex.split(hooks["oo-jwt-fix"]["entry"])
    assert entry[0] == "oo-jwt"
    return _run([*OO_JWT, *entry[1:], *args, "docs/placeholder.md", "docs/stale.md"], site, OO_JWT_SECRET=SECRET)


def test_the_fix_hook_keeps_placeholders_and_re_signs_stale_tokens(counted_site):
    placeholder = (counted_site / "docs" / "placeholder.md").read_bytes()
    result = _fix_hook(counted_site)
    assert result.returncode == 1, result.stderr  # it changed a file: the commit stops, as pre-commit wants
    assert (counted_site / "docs" / "placeholder.md").read_bytes() == placeholder
    assert "fixed docs/stale.md: 1 token" in result.stdout
    assert _token(CONVERSION) in (counted_site / "docs" / "stale.md").read_text(encoding="utf-8")


def test_the_fix_hook_fills_placeholders_when_asked(counted_site):
    result = _fix_hook(counted_site, "--placeholders=fill")
    assert result.returncode == 1, result.stderr
    text = (counted_site / "docs" / "placeholder.md").read_text(encoding="utf-8")
    assert "<oo-jwt>" not in text and _token(CONVERSION) in text


def test_the_advice_carries_the_variables_the_plugin_reads_its_secrets_from(tmp_path):
    """Zensical reads the secret with the extension: the variables the plugin names (secrets: !ENV,
    secret_env) must come with the advice, or the extension finds no secret and checks no
    signature (a stale token then passed zensical build --strict). Names only, never a value."""
    site = _site(tmp_path, plugin=("  - oo-jwt:\n      secrets:\n        inbox: !ENV [DOCS_KEY, null]\n"
                                   "      secret_env:\n        outbox: [DOCS_OUT]\n"
                                   "      version: !ENV [DOCS_VERSION, '8.2']\n      disable: [token-unpaired]\n"))
    result = _check_config(site, DOCS_KEY=SECRET, DOCS_OUT=SECRET, **_fake_zensical(tmp_path, "package"))
    [line] = _warnings(result.stderr)
    assert ('add "- mkdocs_oo_jwt.extension: {disable: [token-unpaired], secret_env: {inbox: [DOCS_KEY], '
            'outbox: [DOCS_OUT]}}" under markdown_extensions: in mkdocs.yml') in line, line
    assert "set version for it as the plugin's are set" in line
    assert SECRET not in result.stderr + result.stdout
    (site / "zensical.toml").write_text('[project]\nsite_name = "Loud"\n', encoding="utf-8")
    [line] = _warnings(_check_config(site, DOCS_KEY=SECRET, DOCS_OUT=SECRET).stderr)
    assert 'secret_env = { inbox = ["DOCS_KEY"], outbox = ["DOCS_OUT"] }' in line, line  # a TOML inline table


def test_a_notice_fails_no_front_end_even_at_fail_on_warning(counted_site, tmp_path):
    """A short secret is said by the command, the plugin and the extension alike, and fails none
    of them, whatever fail_on says (only findings set the command's exit code; the plugin once
    failed `mkdocs build --strict` on it under fail_on: warning)."""
    plain = _site(tmp_path / "plain", plugin="  - oo-jwt:\n      fail_on: warning\n", pages={"a.md": "# Nothing to check\n"})
    result = _run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(plain.parent / "out")], plain,
                  OO_JWT_SECRET="short")
    assert result.returncode == 0, result.stderr
    assert "INFO    -  oo-jwt: the secret from OO_JWT_SECRET" in result.stderr, result.stderr
    check = _run([*OO_JWT, "check", "--no-cache", "--fail-on", "warning", "docs"], plain, OO_JWT_SECRET="short")
    assert check.returncode == 0 and "shorter than 32 bytes" in check.stdout


def test_a_zensical_site_is_checked_with_its_own_config(tmp_path, capsys):
    """A site that lists only the Markdown extension (mkdocs.yml's markdown_extensions, or a
    zensical.toml table) is checked by `oo-jwt check --config` with the extension's options; a
    zensical.toml without the table is a config error, never the defaults in silence."""
    from mkdocs_oo_jwt.cli import main

    stale = _token({**CONVERSION, "outputtype": "docx"})
    site = _site(tmp_path, plugin="  - search\n", pages={"stale.md": conversion_page(stale)},
                 extensions="markdown_extensions:\n  - mkdocs_oo_jwt.extension: {disable: [token-payload-mismatch]}\n")
    yml, toml = site / "mkdocs.yml", site / "zensical.toml"
    docs = str(site / "docs")
    assert main(["check", "--no-cache", "--config", str(yml), docs]) == 0  # its disable applies
    assert main(["check", "--no-cache", docs]) == 1  # the finding it disables
    capsys.readouterr()
    toml.write_text('[project]\nsite_name = "Z"\n\n[project.markdown_extensions."mkdocs_oo_jwt.extension"]\n'
                    'disable = ["token-payload-mismatch"]\n', encoding="utf-8")
    assert main(["check", "--no-cache", "--config", str(toml), docs]) == 0
    toml.write_text('[project]\nsite_name = "Z"\n', encoding="utf-8")
    assert main(["check", "--no-cache", "--config", str(toml), docs]) == 2
    assert capsys.readouterr().err.strip() == (
        f'oo-jwt: error: {toml}: no [project.markdown_extensions."mkdocs_oo_jwt.extension"] table')
    yml.write_text("site_name: Loud\nplugins:\n  - search\n", encoding="utf-8")
    assert main(["check", "--no-cache", "--config", str(yml), docs]) == 2
    assert "no oo-jwt plugin in its plugins list, nor mkdocs_oo_jwt.extension in its markdown_extensions" in capsys.readouterr().err
