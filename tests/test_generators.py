"""site_example/ built by every generator a docs team uses: MkDocs 1.x and ProperDocs (the plugin),
Zensical (the Python-Markdown extension; it drops plugins it does not know). Real builds in a
subprocess, with --strict, from the packages installed in the test environment (the `test` extra
installs all three in one environment). A generator that cannot be imported is a skip that says
so, never a pass.

Every token is checked with PyJWT against the demo secret, never with the tool's own code.
"""

from __future__ import annotations

import html
import importlib.util
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
# the demo docs secret (site_example/README.md): public by design, readers verify the samples with it
DEMO_SECRET = "oo-jwt-demo-docs-secret-2026-not-for-production"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
TAG = re.compile(r"<[^>]+>")
PLACEHOLDER_HTML = "&lt;oo-jwt&gt;"
PROSE_MENTION = "<strong>&lt;oo-jwt&gt;</strong>"  # placeholders.md names the placeholder once in prose
FRONT_MATTER = "---\ntitle: Token in header\ntags: [signing]\n---\n"  # 4 lines the generators take out

GENERATORS = ("mkdocs", "properdocs", "zensical")


def _needs(generator: str) -> None:
    if importlib.util.find_spec(generator) is None:
        pytest.skip(f"{generator} is not installed in this environment (pip install -e '.[test]' installs it)")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = DEMO_SECRET
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's end-of-life banner
    env["DISABLE_MKDOCS_2_WARNING"] = "true"  # ProperDocs' banner
    env["NO_COLOR"] = "1"
    return env


def build(generator: str, project: Path, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    """``<generator> build --strict`` of the project's mkdocs.yml; returns the run and the built site."""
    _needs(generator)
    config = project / "mkdocs.yml"
    out = project / "site"  # Zensical builds into site_dir (default: site/ beside the config)
    cmd = [sys.executable, "-m", generator, "build", "--strict", "-f", str(config)]
    if generator != "zensical":
        cmd += ["-d", str(out)]
    # timeout: a hang guard only (a build takes about a second)
    result = subprocess.run(cmd, capture_output=True, text=True, env=env or _env(), cwd=project, timeout=300)
    return result, out


def copy_site(dest: Path) -> Path:
    shutil.copytree(SITE, dest, ignore=shutil.ignore_patterns("site", "broken", ".cache", "README.md"))
    return dest


def spoil_a_token(project: Path) -> int:
    """Change one signature character of the first header token of token-in-header.md, which is
    given front matter; returns the token's 0-based line in the file."""
    page = project / "docs" / "token-in-header.md"
    lines = (FRONT_MATTER + page.read_text(encoding="utf-8")).split("\n")
    number = next(i for i, line in enumerate(lines) if "Bearer eyJ" in line)
    token = JWT.search(lines[number]).group(0)
    middle = token.rindex(".") + 20
    lines[number] = lines[number].replace(token, token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:])
    page.write_text("\n".join(lines), encoding="utf-8")
    return number


def extension_alone(project: Path, options: str = "      mode: regenerate\n") -> Path:
    """The site with the extension and without the plugin (how a Zensical-only site is set up),
    the extension given ``options``."""
    config = project / "mkdocs.yml"
    text = re.sub(r"  - oo-jwt:\n(?: {6}.*\n)*", "", config.read_text(encoding="utf-8"))
    text = re.sub(r"(  - mkdocs_oo_jwt\.extension:\n)(?: {6}.*\n)*", lambda m: m.group(1) + options, text)
    assert "oo-jwt:" not in text and "mkdocs_oo_jwt.extension:\n" + options in text, text
    config.write_text(text, encoding="utf-8")
    return project


def html_pages(site: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def tokens_in(site: Path) -> list[str]:
    """Every JWT of the built pages, read from their text (tags removed, entities decoded)."""
    return [t for text in html_pages(site).values() for t in JWT.findall(html.unescape(TAG.sub("", text)))]


def placeholders_left(site: Path) -> list[str]:
    return [str(p) for p, text in html_pages(site).items() if PLACEHOLDER_HTML in text.replace(PROSE_MENTION, "")]


@pytest.fixture(scope="module", params=GENERATORS)
def clean_build(request, tmp_path_factory):
    project = copy_site(tmp_path_factory.mktemp(request.param) / "site_example")
    result, out = build(request.param, project)
    return request.param, project, result, out


def test_the_example_site_builds_strict_with_every_placeholder_filled_and_every_token_signed(clean_build):
    generator, _, result, out = clean_build
    assert result.returncode == 0, result.stdout + result.stderr
    assert placeholders_left(out) == []
    placeholders = (out / "placeholders" / "index.html").read_text(encoding="utf-8")
    assert len(JWT.findall(html.unescape(TAG.sub("", placeholders)))) == 4  # the four placeholders, signed
    tokens = tokens_in(out)
    assert len(tokens) >= 20, generator  # the pages' own tokens and the filled placeholders
    for token in tokens:
        jwt.decode(token, DEMO_SECRET, algorithms=["HS256"], options={"verify_exp": False})


def test_the_secret_is_nowhere_in_the_built_site_nor_the_output(clean_build):
    generator, project, result, out = clean_build
    assert DEMO_SECRET not in result.stdout + result.stderr
    built = [p for folder in (out, project / ".cache") if folder.is_dir() for p in folder.rglob("*") if p.is_file()]
    assert len(built) > 7, generator
    for path in built:
        assert DEMO_SECRET.encode() not in path.read_bytes(), path


def test_under_mkdocs_and_properdocs_the_plugin_checks_alone(clean_build):
    """site_example lists the plugin and the extension: MkDocs and ProperDocs run the plugin and
    leave the extension out (one check, one report); Zensical, which drops the plugin, runs the
    extension."""
    generator, _, result, _ = clean_build
    output = result.stdout + result.stderr
    if generator == "zensical":  # the extension's summary, once: the plugin did not run
        assert output.count("oo-jwt: 0 errors, 0 warnings") == 1 and "left to the plugin" not in output, output
        return
    assert "mkdocs_oo_jwt.extension left to the plugin" in output
    assert output.count("oo-jwt: 0 errors, 0 warnings") == 1


@pytest.mark.parametrize("generator", GENERATORS)
def test_one_stale_token_fails_the_build_naming_page_and_true_line(generator, tmp_path):
    """A copy of the site with one token whose signature was changed, on a page with front matter:
    the build fails and names the page and the line of the source file (front matter counted)."""
    _needs(generator)
    project = copy_site(tmp_path / "site_example")
    number = spoil_a_token(project)

    result, _ = build(generator, project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    found = re.findall(rf"token-in-header\.md:{number + 1}:\d+: token-signature ", output)
    assert found, output
    assert DEMO_SECRET not in output
    assert "Traceback" not in output, output
    if generator != "zensical":  # the plugin's one report: each finding logged once, no extension error
        assert len(found) == 1 and "Aborted with a BuildError" not in output, output
    else:  # the extension's exception: one line naming page and line ends the build
        assert re.search(rf"BuildFailed: oo-jwt: token-in-header\.md:{number + 1}:\d+: token-signature [^\n]*\n", output), output


# ---------------------------------------------------------------------------------------------
# the extension alone (a Zensical site; also usable under MkDocs and ProperDocs): what a user reads
# ---------------------------------------------------------------------------------------------

SUMMARY = re.compile(r"^(?:\S+ +- +)?oo-jwt: (\d+) errors?, (\d+) warnings?, (\d+) infos? in (\d+) pages? [^\n]*$", re.M)


@pytest.mark.parametrize("generator", GENERATORS)
def test_the_extension_alone_fails_a_build_in_one_line_without_a_traceback(generator, tmp_path):
    """Zensical wraps an extension's exception in its own RuntimeError and prints both tracebacks;
    the extension's failure is one line there too, as MkDocs and ProperDocs print it."""
    _needs(generator)
    project = extension_alone(copy_site(tmp_path / "site_example"))
    number = spoil_a_token(project)
    result, _ = build(generator, project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output and 'File "' not in output, output
    ending = [line for line in output.splitlines() if re.search(rf"oo-jwt: token-in-header\.md:{number + 1}:\d+: token-signature ", line)]
    assert len(ending) == 2, output  # the finding logged, then the line that ends the build
    assert DEMO_SECRET not in output


@pytest.mark.parametrize("generator", GENERATORS)
def test_a_wrong_extension_option_is_one_line_and_no_summary(generator, tmp_path):
    """An option the extension refuses fails the build in one line; a process whose extension never
    checked a page says no summary."""
    _needs(generator)
    project = extension_alone(copy_site(tmp_path / "site_example"), "      mode: sign\n")
    result, _ = build(generator, project)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "mode: expected one of verify, regenerate" in output, output
    assert "Traceback" not in output and 'File "' not in output, output
    assert not SUMMARY.search(output), output


@pytest.mark.parametrize("generator", GENERATORS)
def test_the_extension_alone_ends_a_build_with_one_summary(generator, tmp_path):
    """The plugin's summary line, said once when the build process ends, counting the pages checked."""
    project = extension_alone(copy_site(tmp_path / "site_example"))
    result, _ = build(generator, project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    [summary] = SUMMARY.findall(output)
    assert summary == ("0", "0", "0", "7"), output
    assert "4 placeholders filled and 0 tokens re-signed" in output, output

    spoil_a_token(project)
    shutil.rmtree(project / ".cache", ignore_errors=True)  # Zensical would take the other pages from it
    failed, _ = build(generator, project)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    [(errors, _, _, pages)] = SUMMARY.findall(output)
    assert errors == "1" and int(pages) >= 1, output


@pytest.mark.parametrize("generator", GENERATORS)
def test_the_extension_alone_says_that_signatures_go_unchecked_once(generator, tmp_path):
    """No secret in mode verify: every page passes, and the notice that no signature was checked
    names each role once, not once per page (Zensical shows no INFO line of Python's logging unless
    the extension says it)."""
    project = extension_alone(copy_site(tmp_path / "site_example"), "      mode: verify\n")
    env = {k: v for k, v in _env().items() if k not in SECRET_VARS}
    result, _ = build(generator, project, env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    named = [role for roles in re.findall(r"oo-jwt: no secret configured for ([a-z, ]+): signatures not checked", output)
             for role in roles.split(", ")]
    assert sorted(named) == ["browser", "inbox", "outbox"], output


# ProperDocs without MkDocs: the test environment has both (the test extra), so the build is run
# as ProperDocs' command, and what is checked is that no module of MkDocs' own package ran in it
PROPERDOCS_ALONE = """
import atexit, importlib.util, os, sys
spec = importlib.util.find_spec("mkdocs")  # MkDocs' own package, found before ProperDocs takes over the name
real = os.path.dirname(spec.origin) + os.sep if spec is not None and spec.origin else None
def report():
    used = sorted(n for n, m in list(sys.modules.items()) if real and str(getattr(m, "__file__", "") or "").startswith(real))
    print("modules of MkDocs' package:", used, file=sys.stderr)
atexit.register(report)
from properdocs.__main__ import cli
sys.argv = ["properdocs", *sys.argv[1:]]
cli()
"""


def test_under_properdocs_the_plugin_runs_none_of_mkdocs_code(tmp_path):
    """A ProperDocs site installs no MkDocs (see test_setups.py): the plugin's ``mkdocs.*`` imports
    are all served by ProperDocs, so the build gates with MkDocs' package never imported."""
    _needs("properdocs")
    project = copy_site(tmp_path / "site_example")
    number = spoil_a_token(project)
    cmd = [sys.executable, "-c", PROPERDOCS_ALONE, "build", "--strict", "-f", str(project / "mkdocs.yml"),
           "-d", str(project / "site")]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=project, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and re.search(rf"token-in-header\.md:{number + 1}:\d+: token-signature ", output), output
    assert "modules of MkDocs' package: []" in output, output


def test_pip_check_is_clean_in_the_test_environment():
    """MkDocs, ProperDocs, Zensical and this package in one environment, with no broken requirement."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed in this environment")
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
