"""Per-path settings: ``[[tool.oo-jwt.overrides]]`` (and the plugin's ``overrides:``) give the pages
their globs match their own version, disabled rules and fail_on; the same declarations and errors
in every front end; and a warm run from the cache never answers with what another override gave.
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
from pagekit import CONVERSION, SECRET_VARS, conversion_page

from mkdocs_oo_jwt.settings import ConfigError, OptionError, Override, load_mkdocs_yml, load_pyproject

PAGES = Path(__file__).parent / "pages"
SECRET = "oo-jwt-test-secret-0123456789abcdef"
# an editor config without the front matter's version: from 7.1 (the default) it lacks parameters
BROWSER = (PAGES / "directives" / "front-matter-version.md").read_text(encoding="utf-8").replace(', version: "7.0"', "")
WEAK = PAGES / "rules" / "token-weak-secret-fail.md"  # warnings only (without a secret)


def stale_page() -> str:
    return conversion_page(jwt.encode({**CONVERSION, "url": "https://example.com/old.docx"}, SECRET, algorithm="HS256"))


@pytest.fixture
def tree(env):
    """docs/ (the editor config: 2 schema errors at 7.1), old/ (the same page, documenting 7.0),
    i18n/zh/ (a stale token: token-payload-mismatch), changelog/ (a stale token too)."""
    (env / ".git").mkdir()
    for folder, name, text in (("docs", "browser.md", BROWSER), ("old", "browser.md", BROWSER),
                               ("i18n/zh", "conversion.md", stale_page()), ("changelog", "conversion.md", stale_page())):
        (env / folder).mkdir(parents=True, exist_ok=True)
        (env / folder / name).write_text(text, encoding="utf-8")
    return env


def pyproject(*tables: str, top: str = "") -> None:
    Path("pyproject.toml").write_text("[tool.oo-jwt]\n" + top + "".join(f"\n[[tool.oo-jwt.overrides]]\n{t}\n" for t in tables),
                                      encoding="utf-8")


def found(out: str) -> list[tuple[str, str]]:
    """(path, rule) of each finding line of a text report."""
    return [(line.split(":")[0], line.split(" ")[2]) for line in out.splitlines() if line.split(":")[0].endswith(".md")]


OVERRIDES = ('paths = ["old/"]\nversion = "7.0"',
             'paths = ["i18n/**"]\ndisable = ["token-payload-mismatch"]',
             'paths = ["changelog/"]\nfail_on = "never"')


def test_version_disable_and_fail_on_per_glob(tree, run):
    code, out, _ = run("check", "--no-cache", ".")
    assert code == 1 and sorted(set(found(out))) == [
        ("changelog/conversion.md", "token-payload-mismatch"), ("docs/browser.md", "schema"),
        ("i18n/zh/conversion.md", "token-payload-mismatch"), ("old/browser.md", "schema")]
    pyproject(*OVERRIDES)
    code, out, _ = run("check", "--no-cache", ".")
    assert code == 1 and sorted(set(found(out))) == [
        ("changelog/conversion.md", "token-payload-mismatch"), ("docs/browser.md", "schema")]
    # the changelog's error is reported, and fails nothing: its pages' fail_on is never
    code, out, _ = run("check", "--no-cache", "old", "i18n", "changelog")
    assert code == 0 and found(out) == [("changelog/conversion.md", "token-payload-mismatch")]
    # the command line's --fail-on is the run's word for every page
    assert run("check", "--no-cache", "--fail-on", "error", "changelog")[0] == 1
    # fix reports (and exits) by the same settings
    code, diff, report = run("fix", "--diff", "old", "i18n")  # the report goes to stderr with --diff
    assert code == 1 and "i18n/zh/conversion.md" in diff  # 1: the stale token would be re-signed
    assert report.rstrip().endswith("\nno problems in 2 pages")


def test_the_command_line_s_target_version_is_the_run_s_word_for_every_page(tree, run):
    """As --fail-on: `--target-version 7.1` checks old/ at 7.1 although its override says 7.0 (the
    override's version won before, unlike --fail-on)."""
    pyproject(*OVERRIDES)
    assert found(run("check", "--no-cache", "old")[1]) == []  # 7.0 by its override
    code, out, _ = run("check", "--no-cache", "--target-version", "7.1", "old")
    assert code == 1 and {rule for _, rule in found(out)} == {"schema"}


def test_the_globs_are_relative_to_the_config_s_folder_wherever_the_run_starts(tree, run, monkeypatch):
    pyproject(*OVERRIDES)
    monkeypatch.chdir(tree / "i18n")
    code, out, _ = run("check", "--no-cache", ".")
    assert code == 0 and found(out) == []


def test_the_last_match_wins_and_disable_adds_up(tree, run):
    pyproject('paths = ["old/", "docs/"]\nversion = "7.0"', 'paths = ["docs/*.md"]\nversion = "7.1"')
    code, out, _ = run("check", "--no-cache", "old", "docs")
    assert sorted(set(found(out))) == [("docs/browser.md", "schema")]
    pyproject('paths = ["**/conversion.md"]\ndisable = ["token-signature"]',
              'paths = ["i18n/"]\ndisable = ["token-payload-mismatch"]', 'paths = ["changelog/"]\nfail_on = "warning"',
              'paths = ["changelog/"]\nfail_on = "never"')
    Path("i18n/zh/conversion.md").write_text(conversion_page(jwt.encode(CONVERSION, "another-secret-0123456789abcdef0123",
                                                                        algorithm="HS256")), encoding="utf-8")
    code, out, _ = run("check", "--no-cache", "i18n", "changelog")
    assert code == 0 and found(out) == [("changelog/conversion.md", "token-payload-mismatch")]


def test_a_page_fails_by_its_own_fail_on(tree, run, monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")  # the weak-secret page gives warnings only
    Path("strict").mkdir()
    shutil.copy(WEAK, "strict/weak.md")
    shutil.copy(WEAK, "docs/weak.md")
    pyproject('paths = ["strict/"]\nfail_on = "warning"')
    assert run("check", "--no-cache", "docs/weak.md")[0] == 0
    code, out, _ = run("check", "--no-cache", "strict")
    assert code == 1 and {rule for _, rule in found(out)} == {"token-weak-secret"}
    code, out, _ = run("check", "--no-cache", "--format", "json", "strict", "docs/weak.md")
    assert code == 1 and json.loads(out)["summary"]["warnings"] == 6


# ------------------------------------------------------------------ one option surface

MKDOCS_OVERRIDES = """      overrides:
        - paths: ["old/"]
          version: "7.0"
        - paths: ["i18n/**"]
          disable: [token-payload-mismatch]
        - paths: ["changelog/"]
          fail_on: never
"""


def _plugin_settings(folder: Path, section: str):
    """What MkDocs hands the plugin (its YAML loader, then load_config), as test_options does."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.plugin import OoJwtPlugin

    path = folder / "mkdocs.yml"
    path.write_text("site_name: t\nplugins:\n  - oo-jwt:\n" + section, encoding="utf-8")
    with open(path, "rb") as fd:
        options = next(item["oo-jwt"] for item in yaml_load(fd)["plugins"] if isinstance(item, dict))
    plugin = OoJwtPlugin()
    errors, _ = plugin.load_config(dict(options), str(path))
    return errors, plugin._settings


def _extension_settings(folder: Path, section: str):
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.extension import makeExtension

    path = folder / "ext.yml"
    path.write_text("markdown_extensions:\n  - mkdocs_oo_jwt.extension:\n" + section, encoding="utf-8")
    with open(path, "rb") as fd:
        options = next(item["mkdocs_oo_jwt.extension"] for item in yaml_load(fd)["markdown_extensions"]
                       if isinstance(item, dict))
    return makeExtension(**options).settings(folder)


def test_the_plugin_config_gives_the_same_overrides(tree):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here")
    pyproject(*OVERRIDES)
    want = load_pyproject(Path("pyproject.toml").resolve())
    assert want.overrides == (Override(("old/",), version="7.0"), Override(("i18n/**",), disable=("token-payload-mismatch",)),
                              Override(("changelog/",), fail_on="never"))
    errors, plugin = _plugin_settings(tree, MKDOCS_OVERRIDES)
    assert not errors
    command = load_mkdocs_yml(tree / "mkdocs.yml")
    extension = _extension_settings(tree, MKDOCS_OVERRIDES)
    for got in (plugin, command, extension):
        assert got._replace(root=None) == want._replace(root=None)


TYPOS = [
    ('paths = ["i18n/**"]\nfail_onn = "never"', "        - paths: ['i18n/**']\n          fail_onn: never\n",
     "overrides: entry 1: fail_onn: unknown key (did you mean fail_on?)"),
    ('paths = ["i18n/**"]\nignore = ["schema"]', "        - paths: ['i18n/**']\n          ignore: [schema]\n",
     "overrides: entry 1: ignore: unknown key (an override takes paths, version, disable, fail_on)"),
    ('version = "7.0"', "        - version: '7.0'\n", "overrides: entry 1: paths: missing (the globs of the pages it applies to)"),
    ('paths = ["i18n/**"]\ndisable = ["no-such-rule"]', "        - paths: ['i18n/**']\n          disable: [no-such-rule]\n",
     "overrides: entry 1: disable: unknown rule id(s): no-such-rule (see `oo-jwt rules`)"),
    ('paths = ["i18n/**"]\nfail_on = "sometimes"', "        - paths: ['i18n/**']\n          fail_on: sometimes\n",
     "overrides: entry 1: fail_on: expected one of error, warning, never, not 'sometimes'"),
]


@pytest.mark.parametrize("toml, yaml, problem", TYPOS, ids=[t[2].split(": ")[2] for t in TYPOS])
def test_a_wrong_override_is_the_same_one_line_error_everywhere(tree, run, toml, yaml, problem):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here")
    pyproject(toml)
    code, out, err = run("check", "--no-cache", "docs")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == f"oo-jwt: error: {Path('pyproject.toml').resolve()} [tool.oo-jwt]: {problem}\n"
    section = "      overrides:\n" + yaml
    errors, _ = _plugin_settings(tree, section)
    assert [f"{key}: {error}" for key, error in errors] == [problem]
    code, out, err = run("check", "--no-cache", "--config", "mkdocs.yml", "docs")
    assert code == 2 and err == f"oo-jwt: error: mkdocs.yml plugins.oo-jwt: {problem}\n"
    with pytest.raises(OptionError) as raised:
        _extension_settings(tree, section)
    assert f"{raised.value.option}: {raised.value.problem}" == problem


def test_a_build_takes_the_plugin_s_overrides(tree, run):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here: the plugin cannot be built with")
    (tree / "docs" / "changelog").mkdir()
    (tree / "docs" / "changelog" / "conversion.md").write_text(stale_page(), encoding="utf-8")
    (tree / "docs" / "old").mkdir()
    (tree / "docs" / "old" / "browser.md").write_text(BROWSER, encoding="utf-8")
    (tree / "docs" / "browser.md").unlink()
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, NO_MKDOCS_2_WARNING="1")

    def build(overrides: str) -> subprocess.CompletedProcess:
        (tree / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - oo-jwt:\n" + overrides, encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tree / "built")],
                              capture_output=True, text=True, env=env, cwd=tree, timeout=300)

    done = build("      fail_on: error\n")
    assert done.returncode != 0 and "changelog/conversion.md" in done.stderr and "old/browser.md" in done.stderr
    done = build('      overrides:\n        - paths: ["docs/old/"]\n          version: "7.0"\n'
                 '        - paths: ["docs/changelog/"]\n          fail_on: never\n')
    assert done.returncode == 0, done.stderr
    assert "old/browser.md" not in done.stderr and "1 error, 0 warnings" in done.stderr  # the changelog's, at INFO


# ------------------------------------------------------------------ the cache


def test_a_warm_run_after_an_override_changed_gives_the_new_answer(tree, run):
    pyproject()
    code, cold, _ = run("check", "i18n", "old")
    assert code == 1 and Path(".oo-jwt-cache/findings-v2.json").is_file()
    pyproject(*OVERRIDES)
    code, out, _ = run("check", "i18n", "old")
    assert code == 0 and found(out) == []
    pyproject(OVERRIDES[0])
    code, out, _ = run("check", "i18n", "old")
    assert code == 1 and found(out) == [("i18n/zh/conversion.md", "token-payload-mismatch")]
    pyproject()
    assert run("check", "i18n", "old")[1] == cold


def test_a_page_of_the_same_bytes_and_place_under_an_override_is_not_answered_for_by_the_other(tree, run):
    """The cache shares findings between pages of the same bytes and place (the last three parts of
    the path): a copy under an override's glob is checked with its own settings, not given the
    other's findings."""
    pyproject('paths = ["i18n/"]\ndisable = ["token-payload-mismatch"]')
    Path("docs/zh").mkdir()
    shutil.copy("i18n/zh/conversion.md", "docs/zh/conversion.md")  # same place: zh/conversion.md
    assert found(run("check", "docs/zh")[1]) == [("docs/zh/conversion.md", "token-payload-mismatch")]
    code, out, _ = run("check", "docs/zh", "i18n")  # warm: i18n's page is looked up by its bytes
    assert found(out) == [("docs/zh/conversion.md", "token-payload-mismatch")]
    shutil.rmtree(".oo-jwt-cache")
    assert found(run("check", "i18n")[1]) == []
    code, out, _ = run("check", "docs/zh", "i18n")
    assert found(out) == [("docs/zh/conversion.md", "token-payload-mismatch")]


def test_the_cache_key_is_the_same_in_every_process(tree):
    """Three rules disabled: the settings' text (part of the cache's key) must not follow the
    process's string hash, or every run is a cold one."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = SECRET
    cache = Path(".oo-jwt-cache/findings-v2.json")
    keys = []
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--disable",
                               "token-weak-secret,token-unpaired,flow-ambiguous", "docs"],
                              capture_output=True, text=True, env={**env, "PYTHONHASHSEED": seed}, timeout=300)
        assert done.returncode == 1, done.stderr
        keys.append(json.loads(cache.read_text())["key"])
    assert len(set(keys)) == 1
