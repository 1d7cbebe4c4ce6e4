"""The MkDocs plugin, through real builds of the example sites: ``mkdocs build --strict`` in a
subprocess with a controlled environment, and in-process builds for what a subprocess cannot show.

Every token is checked with PyJWT against the secret, never with the tool's own code.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site_example"
BROKEN = SITE / "broken"
DEMO_SECRET = "oo-jwt-demo-docs-secret-2026-not-for-production"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
PLACEHOLDER_HTML = "&lt;oo-jwt&gt;"
# placeholders.md names the placeholder once in prose, as **&lt;oo-jwt&gt;**: that one stays.
PROSE_MENTION = "<strong>&lt;oo-jwt&gt;</strong>"
TAG = re.compile(r"<[^>]+>")


def _env(**secrets: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner: keeps the output readable
    env.update(secrets)
    return env


def mkdocs_build(config: Path, site: Path, *, strict: bool = True, **secrets: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(site)]
    if strict:
        cmd.insert(4, "--strict")
    # timeout: a hang guard (a build takes 1-3 s on a quiet machine)
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(**secrets), cwd=config.parent, timeout=300)


def _plugins_block(config: Path) -> str:
    """The plugins section of a site's mkdocs.yml (everything from "plugins:" on)."""
    text = config.read_text(encoding="utf-8")
    return text[text.index("plugins:"):]


def copy_site(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("site", "broken"))
    return dest


def set_plugin_options(config: Path, options: str) -> None:
    """Replace the options of the oo-jwt plugin in a copied mkdocs.yml by ``options`` (YAML lines)."""
    text = config.read_text(encoding="utf-8")
    head, sep, _ = text.partition("  - oo-jwt:\n")
    assert sep, "the site lists the oo-jwt plugin last"
    config.write_text(head + sep + options, encoding="utf-8")


def html_pages(site: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def tokens_in(site: Path) -> list[str]:
    """Every JWT of the built pages, read from their text (tags removed, entities decoded), so that
    a token split by syntax-highlighting spans is still found whole."""
    found = []
    for text in html_pages(site).values():
        found += JWT.findall(html.unescape(TAG.sub("", text)))
    return found


def assert_all_verify(tokens: list[str], secret: str) -> None:
    assert tokens
    for token in tokens:
        jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})


def placeholders_left(site: Path) -> list[str]:
    return [str(p) for p, text in html_pages(site).items() if PLACEHOLDER_HTML in text.replace(PROSE_MENTION, "")]


# ---------------------------------------------------------------------------------------------
# 1. The example site, mode regenerate
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    site = tmp_path_factory.mktemp("regenerated") / "site"
    result = mkdocs_build(SITE / "mkdocs.yml", site, OO_JWT_SECRET=DEMO_SECRET)
    return result, site


def test_example_site_builds_strict_with_every_token_signed(regenerated):
    result, site = regenerated
    assert result.returncode == 0, result.stderr
    tokens = tokens_in(site)
    assert len(tokens) >= 20  # the pages' own tokens and the four filled placeholders
    assert_all_verify(tokens, DEMO_SECRET)
    assert placeholders_left(site) == []
    placeholders = (site / "placeholders" / "index.html").read_text(encoding="utf-8")
    assert placeholders.count(PROSE_MENTION) == 1
    assert len(JWT.findall(html.unescape(TAG.sub("", placeholders)))) == 4
    assert "oo-jwt: 0 errors, 0 warnings" in result.stderr
    assert "; in the built pages 4 placeholders filled and 0 tokens re-signed" in result.stderr


def test_example_site_sources_are_untouched_and_placeholders_are_real(regenerated, tmp_path):
    """Without the plugin the same pages still show their four placeholders (so the test above
    proves the plugin filled them), and the build did not change the Markdown files."""
    source = (SITE / "docs" / "placeholders.md").read_text(encoding="utf-8")
    assert source.count("<oo-jwt>") == 4
    plain = mkdocs_build(SITE / "mkdocs-noplugin.yml", tmp_path / "site")
    assert plain.returncode == 0, plain.stderr
    text = (tmp_path / "site" / "placeholders" / "index.html").read_text(encoding="utf-8")
    assert text.replace(PROSE_MENTION, "").count(PLACEHOLDER_HTML) == 4


def test_the_secret_is_nowhere_in_the_site_or_the_output(regenerated):
    result, site = regenerated
    assert DEMO_SECRET not in result.stdout + result.stderr
    for path in site.rglob("*"):
        if path.is_file():
            assert DEMO_SECRET.encode() not in path.read_bytes(), path


def test_the_secret_is_not_in_verbose_output(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-v", "--strict", "-f", str(SITE / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True, text=True, env=_env(OO_JWT_SECRET=DEMO_SECRET), timeout=300,  # a hang guard
    )
    assert result.returncode == 0, result.stderr
    assert "Config value 'plugins'" in result.stderr  # MkDocs' debug dump of the config was there
    assert DEMO_SECRET not in result.stdout + result.stderr


def test_secret_is_read_exactly_as_set_not_as_yaml(tmp_path):
    """MkDocs' !ENV would turn an all-digit secret into an int (and "0x1F" into 31): the plugin reads
    the variable itself, so the tokens verify with the secret exactly as the environment has it."""
    secret = "0x" + "1234567890" * 4
    site = copy_site(SITE, tmp_path / "s")
    for page in (site / "docs").glob("*.md"):  # keep the page whose tokens are all placeholders
        if page.name != "placeholders.md":
            page.unlink()
    config = site / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").split("nav:")[0] + _plugins_block(config), encoding="utf-8")
    result = mkdocs_build(config, tmp_path / "out", OO_JWT_SECRET=secret)
    assert result.returncode == 0, result.stderr
    assert_all_verify(tokens_in(tmp_path / "out"), secret)
    assert secret not in result.stdout + result.stderr


def test_role_secrets_override_the_shared_one(tmp_path):
    inbox = "an-inbox-only-secret-for-this-test-0123456789"
    site = copy_site(SITE, tmp_path / "s")
    page = site / "docs" / "placeholders.md"
    shutil.rmtree(site / "docs")
    (site / "docs").mkdir()
    shutil.copy(SITE / "docs" / "placeholders.md", page)
    (site / "mkdocs.yml").write_text(
        (SITE / "mkdocs.yml").read_text(encoding="utf-8").split("nav:")[0]
        + "plugins:\n  - oo-jwt:\n      mode: regenerate\n      secrets:\n"
        "        inbox: !ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null]\n"
        "        outbox: !ENV [OO_JWT_SECRET_OUTBOX, OO_JWT_SECRET, null]\n"
        "        browser: !ENV [OO_JWT_SECRET_BROWSER, OO_JWT_SECRET, null]\n",
        encoding="utf-8",
    )
    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET, OO_JWT_SECRET_INBOX=inbox)
    assert result.returncode == 0, result.stderr
    tokens = tokens_in(tmp_path / "out")
    # insertImage (browser), command (inbox, header), conversion (inbox, body), callback (outbox)
    assert len(tokens) == 4
    secrets = [DEMO_SECRET, inbox, inbox, DEMO_SECRET]
    for token, secret in zip(tokens, secrets):
        jwt.decode(token, secret, algorithms=["HS256"])


def test_front_matter_and_crlf_pages_are_regenerated_exactly(tmp_path):
    """A page with front matter and CRLF line ends: the plugin fills the page MkDocs would render,
    front matter removed as MkDocs removes it (the title from front matter still applies)."""
    site = copy_site(SITE, tmp_path / "s")
    page = site / "docs" / "placeholders.md"
    text = "---\ntitle: Filled placeholders\n---\n" + page.read_text(encoding="utf-8")
    page.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    built = (tmp_path / "out" / "placeholders" / "index.html").read_text(encoding="utf-8")
    assert "<title>Filled placeholders" in built
    assert "title: Filled placeholders" not in built
    assert placeholders_left(tmp_path / "out") == []
    assert_all_verify(JWT.findall(html.unescape(TAG.sub("", built))), DEMO_SECRET)


def test_markdown_changed_by_another_plugin_still_gets_its_tokens(tmp_path):
    """A hook rewrites the page source before oo-jwt sees it: the front matter strip no longer
    matches, so the plugin swaps each old token (placeholders in page order) in the given Markdown."""
    site = copy_site(SITE, tmp_path / "s")
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("plugins:\n", "hooks:\n  - hook.py\nplugins:\n"), encoding="utf-8")
    # hooks run after plugins unless their priority says otherwise: this one runs before oo-jwt
    (site / "hook.py").write_text(
        "from mkdocs.plugins import event_priority\n\n"
        "@event_priority(100)\n"
        "def on_page_markdown(markdown, page, config, files):\n"
        "    return '!!! note\\n    Rewritten by a hook.\\n\\n' + markdown\n",
        encoding="utf-8",
    )
    result = mkdocs_build(config, tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    built = (tmp_path / "out" / "placeholders" / "index.html").read_text(encoding="utf-8")
    assert "Rewritten by a hook." in built
    assert placeholders_left(tmp_path / "out") == []
    tokens = JWT.findall(html.unescape(TAG.sub("", built)))
    assert len(tokens) == 4
    assert_all_verify(tokens, DEMO_SECRET)


# ---------------------------------------------------------------------------------------------
# 2. One broken token, mode verify
# ---------------------------------------------------------------------------------------------


def test_a_broken_token_fails_the_strict_build_naming_page_and_line(tmp_path):
    site = copy_site(SITE, tmp_path / "s")
    set_plugin_options(site / "mkdocs.yml", "      mode: verify\n")
    page = site / "docs" / "token-in-header.md"
    lines = page.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if "Bearer eyJ" in line)
    token = JWT.search(lines[number]).group(0)
    signature_middle = token.rindex(".") + 20
    flipped = "A" if token[signature_middle] != "A" else "B"
    lines[number] = lines[number].replace(token, token[:signature_middle] + flipped + token[signature_middle + 1:])
    page.write_text("\n".join(lines), encoding="utf-8")

    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert re.search(rf"WARNING +- +oo-jwt: token-in-header\.md:{number + 1}:\d+: token-signature ", output), output
    assert "oo-jwt: 1 error, 0 warnings" in output
    assert "Aborted with 1 warnings in strict mode" in output


def test_in_mode_regenerate_a_stale_token_fails_strict_but_the_site_is_signed_again(tmp_path):
    site = copy_site(SITE, tmp_path / "s")
    page = site / "docs" / "token-in-header.md"
    text = page.read_text(encoding="utf-8")
    stale = jwt.encode({"payload": {"c": "info", "key": "another-key"}}, DEMO_SECRET, algorithm="HS256")
    original = JWT.search(text[text.index("Bearer eyJ"):]).group(0)
    page.write_text(text.replace(original, stale, 1), encoding="utf-8")
    line = text[: text.index(original)].count("\n") + 1
    strict = mkdocs_build(site / "mkdocs.yml", tmp_path / "strict", OO_JWT_SECRET=DEMO_SECRET)
    assert strict.returncode != 0  # the source is stale: the gate fails, naming page and line
    assert re.search(rf"token-in-header\.md:{line}:\d+: token-payload-mismatch ", strict.stderr), strict.stderr
    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", strict=False, OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    assert "token-payload-mismatch" in result.stderr and "freshly signed token" in result.stderr
    built = tokens_in(tmp_path / "out")
    assert stale not in built and original in built
    assert page.read_text(encoding="utf-8").count(stale) == 1  # the source is not touched


# ---------------------------------------------------------------------------------------------
# 3. The broken site
# ---------------------------------------------------------------------------------------------


def broken_expectations() -> list[tuple[str, int, str]]:
    """(page, line, rule) of every row of the table in site_example/broken/README.md."""
    rows = []
    for line in (BROKEN / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`docs/"):
            page = cells[0].strip("`").removeprefix("docs/")
            rows.append((page, int(re.match(r"\d+", cells[1]).group(0)), cells[2].strip("`")))
    return rows


def test_broken_site_fails_naming_each_page_and_line(tmp_path):
    expected = broken_expectations()
    assert len(expected) == 4
    result = mkdocs_build(BROKEN / "mkdocs.yml", tmp_path / "site", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for page, line, rule in expected:
        assert re.search(rf"WARNING +- +oo-jwt: {re.escape(page)}:{line}:\d+: {re.escape(rule)} ", output), (page, line, output)
    assert f"oo-jwt: {len(expected)} errors, 0 warnings, 0 infos in 3 pages" in output
    assert DEMO_SECRET not in output


def _quiet_build(config: Path, site: Path, *options: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", *options, "-f", str(config), "-d", str(site)]
    # timeout: a hang guard
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(OO_JWT_SECRET=DEMO_SECRET), cwd=config.parent, timeout=300)


def test_a_quiet_strict_build_with_errors_fails_naming_them(tmp_path):
    """``-q`` makes MkDocs drop warnings before its strict-mode counter sees them (it sets the
    "mkdocs" logger to ERROR): the plugin's errors would pass a strict build unseen. The plugin
    fails the build itself, at its end, naming each finding."""
    result = _quiet_build(BROKEN / "mkdocs.yml", tmp_path / "site", "--strict")
    assert result.returncode != 0, result.stderr
    for page, line, rule in broken_expectations():
        assert re.search(rf"{re.escape(page)}:{line}:\d+: {re.escape(rule)} ", result.stderr), (page, rule, result.stderr)
    assert "-q" in result.stderr or "quiet" in result.stderr
    assert DEMO_SECRET not in result.stdout + result.stderr


def test_quiet_without_strict_and_a_quiet_strict_clean_build_pass(tmp_path):
    assert _quiet_build(BROKEN / "mkdocs.yml", tmp_path / "a").returncode == 0
    clean = _quiet_build(SITE / "mkdocs.yml", tmp_path / "b", "--strict")
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr.strip() == ""


def test_fail_on_never_logs_errors_at_info(tmp_path):
    site = copy_site(BROKEN, tmp_path / "s")
    options = (BROKEN / "mkdocs.yml").read_text(encoding="utf-8").split("  - oo-jwt:\n")[1]
    set_plugin_options(site / "mkdocs.yml", options.replace("mode: verify", "mode: verify\n      fail_on: never"))
    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    assert re.search(r"INFO +- +oo-jwt: callback-status\.md:16:\d+: schema ", result.stderr)
    assert "WARNING" not in result.stderr


def test_disable_turns_a_rule_off(tmp_path):
    site = copy_site(BROKEN, tmp_path / "s")
    set_plugin_options(site / "mkdocs.yml", "      disable: [schema, token-payload-mismatch, request-mismatch, token-signature]\n")
    result = mkdocs_build(site / "mkdocs.yml", tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    assert "oo-jwt: 0 errors" in result.stderr


# ---------------------------------------------------------------------------------------------
# 4. Configuration errors
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_site(tmp_path):
    site = copy_site(SITE, tmp_path / "s")
    return site / "mkdocs.yml"


def test_a_typo_in_an_option_is_a_config_error(small_site, tmp_path):
    set_plugin_options(small_site, "      mdoe: verify\n")
    result = mkdocs_build(small_site, tmp_path / "out", strict=False, OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    assert re.search(r"ERROR +- +Config value 'plugins': Plugin 'oo-jwt' option 'mdoe': unknown option", result.stderr), result.stderr
    assert "Aborted with a configuration error" in result.stdout + result.stderr


def test_a_typo_in_a_secret_role_is_a_config_error(small_site, tmp_path):
    set_plugin_options(small_site, "      secrets:\n        inbx: !ENV [OO_JWT_SECRET, null]\n")
    result = mkdocs_build(small_site, tmp_path / "out", strict=False, OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    assert "option 'secrets': unknown role 'inbx' (the roles are: inbox, outbox, browser)" in result.stderr
    assert DEMO_SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "options, message",
    [
        ("      disable: [no-such-rule]\n", "option 'disable': unknown rule id(s): no-such-rule"),
        ("      mode: sign\n", "option 'mode': expected one of verify, regenerate, not 'sign'"),
        ("      fail_on: sometimes\n", "option 'fail_on': expected one of error, warning, never, not 'sometimes'"),
        ("      version: not-a-version\n", "option 'version': cannot read version"),
        ("      flows_dir: no-such-folder\n", "option 'flows_dir': no-such-folder: no such folder"),
        ("      keep_claims: maybe\n", "option 'keep_claims':"),
        ("      max_samples_per_page: 0\n", "option 'max_samples_per_page': expected a positive whole number"),
        ("      max_page_bytes: big\n", "option 'max_page_bytes': expected a positive whole number"),
    ],
)
def test_bad_option_values_are_config_errors(small_site, tmp_path, options, message):
    set_plugin_options(small_site, options)
    result = mkdocs_build(small_site, tmp_path / "out", strict=False, OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Aborted with a configuration error" in result.stdout + result.stderr


def test_a_limit_set_in_mkdocs_yml_bounds_the_pages(small_site, tmp_path):
    """max_samples_per_page: 1 on pages of several samples: the rest of each page is reported (a
    warning: with fail_on: warning, the strict build fails)."""
    set_plugin_options(small_site, "      max_samples_per_page: 1\n      fail_on: warning\n")
    result = mkdocs_build(small_site, tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    assert re.search(r"WARNING +- +oo-jwt: browser\.md:\d+:\d+: page-partly-checked more than 1 examples", result.stderr), result.stderr


def test_regenerate_without_any_secret_fails_once_with_one_line(tmp_path):
    result = mkdocs_build(SITE / "mkdocs.yml", tmp_path / "site", strict=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert "mode: regenerate" in errors[0] and "OO_JWT_SECRET" in errors[0]
    assert result.stderr.count("needs a secret") == 1
    assert "Traceback" not in result.stderr


def test_regenerate_without_a_needed_role_secret_fails_once(tmp_path):
    """Only the inbox secret is set: the browser and outbox tokens cannot be signed."""
    result = mkdocs_build(SITE / "mkdocs.yml", tmp_path / "site", strict=False, OO_JWT_SECRET_INBOX=DEMO_SECRET)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stderr
    assert "browser, outbox" in errors[0] and "OO_JWT_SECRET_OUTBOX" in errors[0]


def test_a_literal_secret_is_a_configuration_error_that_never_shows_it(small_site, tmp_path):
    """A secret written in mkdocs.yml (under version control) stops the build, as it stops `oo-jwt
    check --config mkdocs.yml`: one line naming the role and the !ENV form, never the value; even
    when the environment happens to hold the same value."""
    literal = "a-literal-secret-written-in-mkdocs-yml-0123456789"
    set_plugin_options(small_site, f"      mode: verify\n      secrets:\n        inbox: {literal}\n")
    for env in ({}, {"OO_JWT_SECRET": literal}):
        result = mkdocs_build(small_site, tmp_path / "out", strict=False, **env)
        output = result.stdout + result.stderr
        assert result.returncode != 0 and "Aborted with a configuration error" in output
        assert re.search(r"option 'secrets': inbox: a secret written in mkdocs\.yml .*!ENV \[OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null\]", output)
        assert literal not in output


def test_an_env_list_without_null_is_a_literal_default(small_site, tmp_path):
    set_plugin_options(small_site, "      secrets:\n        inbox: !ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET]\n")
    result = mkdocs_build(small_site, tmp_path / "out", strict=False, OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode != 0
    assert "inbox: the last item of an !ENV list is its default value" in result.stderr


def test_without_secrets_option_the_command_variables_are_read(small_site, tmp_path):
    set_plugin_options(small_site, "      mode: regenerate\n")
    result = mkdocs_build(small_site, tmp_path / "out", OO_JWT_SECRET=DEMO_SECRET)
    assert result.returncode == 0, result.stderr
    assert_all_verify(tokens_in(tmp_path / "out"), DEMO_SECRET)
    assert placeholders_left(tmp_path / "out") == []


# ---------------------------------------------------------------------------------------------
# 5. Rebuilds (mkdocs serve): no state carried over
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("site, env", [(SITE, {"OO_JWT_SECRET": DEMO_SECRET}), (BROKEN, {"OO_JWT_SECRET": DEMO_SECRET})])
def test_two_builds_with_one_plugin_instance_give_the_same_summary(site, env, tmp_path, monkeypatch, caplog):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = load_config(str(site / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    plugin = config.plugins["oo-jwt"]
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.mkdocs_oo_jwt"):
        build(config)
        first = plugin.summary()
        first_findings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        caplog.clear()
        build(config)
        second = plugin.summary()
        second_findings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        summaries = [r.getMessage() for r in caplog.records if " infos in " in r.getMessage()]
    assert first == second
    assert first_findings == second_findings
    assert summaries == ["oo-jwt: " + second]
    assert " in 7 pages" in first or " in 3 pages" in first
    if site is BROKEN:
        assert first.startswith("4 errors")
    else:
        assert_all_verify(tokens_in(tmp_path / "site"), DEMO_SECRET)


# ---------------------------------------------------------------------------------------------
# Where secrets come from (in-process)
# ---------------------------------------------------------------------------------------------


def test_secrets_of_an_inherited_config_are_read_from_the_parent_env_tags(tmp_path, monkeypatch):
    from mkdocs.config import load_config

    from mkdocs_oo_jwt.settings import secrets_from_env

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DOCS_INBOX_KEY", "007")  # MkDocs' !ENV alone would read the int 7
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "base.yml").write_text(
        "site_name: t\nplugins:\n  oo-jwt:\n    secrets:\n      inbox: !ENV [DOCS_INBOX_KEY, null]\n      outbox: !ENV NO_SUCH_VARIABLE\n",
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\n", encoding="utf-8")
    config = load_config(str(tmp_path / "mkdocs.yml"))
    plugin = config.plugins["oo-jwt"]
    secrets = secrets_from_env(plugin._settings)
    assert secrets["inbox"].reveal() == "007" and secrets["inbox"].source == "DOCS_INBOX_KEY"
    assert "outbox" not in secrets
    assert "007" not in repr(plugin.config) and "007" not in repr(dict(config)) and "007" not in repr(plugin._settings)


def test_without_a_file_a_value_is_taken_from_the_variable_that_holds_it():
    """A config given from Python (no mkdocs.yml to read the !ENV tags in): a value counts as the
    environment's only if a variable holds it, as MkDocs reads variables."""
    from mkdocs_oo_jwt.settings import Invalid, Secret, secrets_names

    environ = {"MY_SECRET": "from-the-environment-0123456789abcdef", "DIGITS": "007"}
    assert secrets_names({"inbox": Secret("from-the-environment-0123456789abcdef", "mkdocs.yml"),
                          "outbox": Secret("7", "mkdocs.yml"), "browser": None}, environ) == {
        "inbox": ("MY_SECRET",), "outbox": ("DIGITS",), "browser": ()}
    with pytest.raises(Invalid) as raised:
        secrets_names({"outbox": Secret("hunter2-in-mkdocs-yml", "mkdocs.yml")}, environ)
    assert "outbox: a secret written in mkdocs.yml" in str(raised.value) and "hunter2" not in str(raised.value)
    with pytest.raises(Invalid):  # read from a file (no environ to compare with): written there
        secrets_names({"inbox": Secret("from-the-environment-0123456789abcdef", "mkdocs.yml")}, None)


# ---------------------------------------------------------------------------------------------
# Checking in a background process (sites of 8 pages or more, both modes)
# ---------------------------------------------------------------------------------------------


from mkdocs_oo_jwt.run.background import MIN_PAGES as BACKGROUND_MIN_PAGES  # noqa: E402 - as shipped


def _big_site(tmp_path: Path, mode: str) -> Path:
    """The example site's 7 pages, then the 3 broken ones (verify) or copies of 3 of its pages
    (regenerate), and a page with a NUL byte: 11 pages, every page in the build (no nav)."""
    site = copy_site(SITE, tmp_path / "big")
    docs = site / "docs"
    extra = sorted(BROKEN.glob("docs/*.md")) if mode == "verify" else sorted(SITE.glob("docs/[tw]*.md"))
    for i, page in enumerate(extra):
        shutil.copy(page, docs / f"extra-{i}-{page.name}")
    (docs / "nul.md").write_bytes(b"# A NUL \x00 in a page\n")
    config = site / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    text = text[: text.index("nav:")] + text[text.index("markdown_extensions:"):]  # every page, no nav
    config.write_text(text.replace("mode: regenerate", f"mode: {mode}"), encoding="utf-8")
    return config


def _build_in_process(config: Path, site_dir: Path, monkeypatch, caplog, *, background: bool):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from mkdocs_oo_jwt.run import background as bg

    started = []

    class Spy(bg.Background):
        def __init__(self, *args):
            started.append(len(args[0]))
            super().__init__(*args)

    monkeypatch.setattr(bg, "Background", Spy)
    monkeypatch.setattr(bg, "MIN_PAGES", BACKGROUND_MIN_PAGES if background else 10**9)
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", DEMO_SECRET)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.mkdocs_oo_jwt"):
        build(load_config(str(config), site_dir=str(site_dir)))
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if "plugin time" not in r.getMessage()]
    return started, messages


@pytest.mark.parametrize("mode", ["verify", "regenerate"])
def test_pages_checked_in_the_background_give_what_checking_in_process_gives(mode, tmp_path, monkeypatch, caplog):
    config = _big_site(tmp_path, mode)
    started, background = _build_in_process(config, tmp_path / "bg", monkeypatch, caplog, background=True)
    assert started == [11]  # the checker ran, on every page
    none, in_process = _build_in_process(config, tmp_path / "ip", monkeypatch, caplog, background=False)
    assert none == []
    assert sorted(background) == sorted(in_process)
    assert not any(DEMO_SECRET in m for _, m in background)
    assert not any(DEMO_SECRET.encode() in f.read_bytes() for f in (tmp_path / "bg").rglob("*") if f.is_file())
    summary = [m for _, m in background if " infos in " in m]
    if mode == "verify":
        assert len(summary) == 1 and summary[0].startswith("oo-jwt: 5 errors, 0 warnings, 0 infos in 11 pages (")
        assert any("nul.md:1:" in m and "page-unreadable" in m for _, m in background)
        for page, line, rule in broken_expectations():
            assert any(f"extra-" in m and f"{page}:{line}:" in m and f" {rule} " in m for _, m in background), (page, rule)
    else:
        assert summary[0].startswith("oo-jwt: 1 error, 0 warnings")
        assert summary[0].endswith("; in the built pages 4 placeholders filled and 0 tokens re-signed")
        assert_all_verify(tokens_in(tmp_path / "bg"), DEMO_SECRET)
        assert html_pages(tmp_path / "bg").keys() and all(
            text == (tmp_path / "ip" / p.relative_to(tmp_path / "bg")).read_text(encoding="utf-8")
            for p, text in html_pages(tmp_path / "bg").items() if "search" not in p.name
        )


_EDIT: dict[str, Path] = {}  # set by the test below; read in the forked checker


def _check_then_edit(items):
    """The background checker's task, then an edit of the page it just read (run in the fork)."""
    from mkdocs_oo_jwt.run import background as bg

    out = bg.__dict__["_real_check_sources"](items)
    page = _EDIT["page"]
    if any(shown == page.name for _, shown in items):
        page.write_text(page.read_text(encoding="utf-8").replace("Khirz6zTPdfd7", "Khirz6zTPdfd8"), encoding="utf-8")
    return out


def _die(items):
    """The background checker's task, dying (as a process the OOM killer took) on the first batch that
    holds a page named after "n": every later batch is lost with it."""
    if any(shown.startswith("placeholders") for _, shown in items) or items[0][1] > "n":
        os._exit(9)
    from mkdocs_oo_jwt.run import background as bg

    return bg.__dict__["_real_check_sources"](items)


@pytest.mark.parametrize("mode", ["verify", "regenerate"])
def test_when_the_background_checker_dies_the_pages_are_checked_in_the_build(mode, tmp_path, monkeypatch, caplog):
    from mkdocs_oo_jwt.run import background as bg

    config = _big_site(tmp_path, mode)
    _, in_process = _build_in_process(config, tmp_path / "ip", monkeypatch, caplog, background=False)
    monkeypatch.setattr(bg, "_real_check_sources", bg._check_sources, raising=False)
    monkeypatch.setattr(bg, "_check_sources", _die)
    started, dying = _build_in_process(config, tmp_path / "bg", monkeypatch, caplog, background=True)
    assert started == [11]
    assert sorted(dying) == sorted(in_process)


def test_a_page_changed_after_the_background_read_is_checked_again(tmp_path, monkeypatch, caplog):
    """Regenerate mode never uses a report of text the page no longer holds: the page is checked again."""
    from mkdocs_oo_jwt.run import background as bg

    config = _big_site(tmp_path, "regenerate")
    _EDIT["page"] = config.parent / "docs" / "token-in-body.md"
    monkeypatch.setattr(bg, "_real_check_sources", bg._check_sources, raising=False)
    monkeypatch.setattr(bg, "_check_sources", _check_then_edit)
    started, _ = _build_in_process(config, tmp_path / "bg", monkeypatch, caplog, background=True)
    assert started == [11]
    assert "Khirz6zTPdfd8" in _EDIT["page"].read_text(encoding="utf-8")  # the fork did edit it
    built = html.unescape(TAG.sub("", (tmp_path / "bg" / "token-in-body" / "index.html").read_text(encoding="utf-8")))
    payloads = [jwt.decode(t, DEMO_SECRET, algorithms=["HS256"], options={"verify_exp": False}) for t in JWT.findall(built)]
    assert payloads and "Khirz6zTPdfd7" not in repr(payloads) and "Khirz6zTPdfd8" in repr(payloads)
