"""The build front ends as a docs team meets them: the MkDocs plugin, and the Python-Markdown
extension under Zensical (and under MkDocs without the plugin). Real builds in tmp_path, by the
generators installed in the test environment; a generator that cannot be imported is a skip that
says so.

- Decoded-token panels stay out of the site's search index (a search for a payload's value must not
  find JSON the page's text does not hold), whichever search indexes the site.
- A refused option or secret is named in the file the user wrote it in (zensical.toml, not
  mkdocs.yml).
- An INHERIT: of a site that lists the extension is read as Zensical reads it (lists appended).
- The extension's notices are said at each build of one server process, not at its first only.
- The extension's summary says the baseline's counts, as the plugin's does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS
from test_panels import DEMO_SECRET, panel_site, panels_of

EXTENSION = "mkdocs_oo_jwt.extension"
PARAMS = {"c": "compare", "fileType": "docx", "url": "https://example.com/a.docx"}
SHORT_SECRET = "short-secret"  # under 32 bytes: the extension says so once per build
SHORT_NOTICE = "is shorter than 32 bytes"


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this environment (pip install -e '.[test]' installs it)")


def _env(secret: str | None = DEMO_SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    if secret is not None:
        env["OO_JWT_SECRET"] = secret
    env.update(NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true", NO_COLOR="1")
    return env


def _build(generator: str, project: Path, config: str = "mkdocs.yml", env: dict | None = None) -> subprocess.CompletedProcess:
    """``<generator> build`` of ``project`` (Zensical: --clean, so every page is converted)."""
    _needs(generator)
    cmd = [sys.executable, "-m", generator, "build", "-f", str(project / config)]
    cmd += ["--clean"] if generator == "zensical" else ["-d", str(project / "site")]
    # timeout: a hang guard only (a build takes about a second)
    return subprocess.run(cmd, capture_output=True, text=True, env=env or _env(), cwd=project, timeout=300)


def _stale_page() -> str:
    """A page whose one sample token signs another url than its example's: token-payload-mismatch."""
    token = jwt.encode(PARAMS | {"url": "https://example.com/b.docx"}, DEMO_SECRET, algorithm="HS256")
    return ("# Stale\n\n## setRequestedDocument\n\nWhen calling the `setRequestedDocument` method, the token signs "
            "the parameters:\n\n```json\n" + json.dumps(PARAMS, indent=4) + f"\n```\n\nSample token\n\n```\n{token}\n```\n")


def _small_site(root: Path, config: str, name: str = "mkdocs.yml") -> Path:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "index.md").write_text(_stale_page(), encoding="utf-8")
    (root / name).write_text(config, encoding="utf-8")
    return root


# ---------------------------------------------------------------------------------------------
# 1. panels stay out of the search index
# ---------------------------------------------------------------------------------------------


def _index_text(generator: str, site: Path) -> str:
    """The text of the search index (MkDocs' and Material's search/search_index.json, Zensical's
    search.json), its entries only."""
    if generator == "zensical":
        return json.dumps(json.loads((site / "search.json").read_text(encoding="utf-8"))["items"], sort_keys=True)
    return json.dumps(json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"],
                      sort_keys=True)


def _without_plugin(project: Path) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("  - oo-jwt:")], encoding="utf-8")  # plugins: search only


@pytest.mark.parametrize("generator, theme, front_end", [
    ("mkdocs", "material", "plugin"),  # Material's search plugin
    ("mkdocs", "mkdocs", "plugin"),  # MkDocs' own search plugin, which skips no element
    ("mkdocs", "material", "extension"),  # the extension alone under MkDocs: Material's search
    ("zensical", "material", "extension"),  # Zensical's own search
])
def test_the_search_index_is_the_same_with_panels_as_without(generator, theme, front_end, tmp_path):
    """A reader searching the site finds the page's text, never the JSON of a panel: the index of
    the site built with panels is the index of the site built without them, while its pages show
    the panels; no secret anywhere."""
    _needs(generator)
    indexes = {}
    for panels in (False, True):
        project = panel_site(tmp_path / f"panels-{panels}", theme=theme, extra={})
        if not panels:
            for config in [project / "mkdocs.yml"]:
                config.write_text(config.read_text(encoding="utf-8").replace("      panels: true\n", ""), encoding="utf-8")
        if front_end == "extension" and generator == "mkdocs":
            _without_plugin(project)
        done = _build(generator, project)
        assert done.returncode == 0, done.stdout + done.stderr
        site = project / "site"
        shown = sum(len(panels_of(p.read_text(encoding="utf-8"))) for p in site.rglob("*.html"))
        assert (shown > 20) if panels else (shown == 0), shown
        indexes[panels] = _index_text(generator, site)
        for path in [p for p in site.rglob("*") if p.is_file()]:
            assert DEMO_SECRET.encode() not in path.read_bytes(), path
    assert "Decoded token" not in indexes[True] and "Signs the example" not in indexes[True]
    assert indexes[True] == indexes[False]


# ---------------------------------------------------------------------------------------------
# 2. a message names the file the options were read from
# ---------------------------------------------------------------------------------------------

ZENSICAL_TABLE = f'[project.markdown_extensions."{EXTENSION}"]'


def _zensical_toml(root: Path, options: str) -> Path:
    return _small_site(root, f'[project]\nsite_name = "t"\n\n{ZENSICAL_TABLE}\nfail_on = "never"\n{options}',
                       "zensical.toml")


@pytest.mark.parametrize("options, said", [
    ('exclude = ["drafts/"]\n', "exclude: not an option in zensical.toml (it is one in pyproject.toml)"),
    ('secrets = { inbox = "a-literal-secret-in-zensical-toml-0123" }\n', "inbox: a secret written in zensical.toml"),
])
def test_zensical_names_zensical_toml_in_a_refusal(options, said, tmp_path):
    """`zensical build` of a zensical.toml whose extension table holds an option of another place,
    or a secret written in the file: the one-line refusal names zensical.toml, never mkdocs.yml, and
    never shows the secret; `oo-jwt check --config zensical.toml` says the same."""
    from mkdocs_oo_jwt.settings import ConfigError, load_pyproject

    project = _zensical_toml(tmp_path, options)
    done = _build("zensical", project, "zensical.toml")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert said in output and "mkdocs.yml" not in output, output
    assert "a-literal-secret" not in output and "Traceback" not in output
    with pytest.raises(ConfigError) as raised:
        load_pyproject(project / "zensical.toml")
    assert said in str(raised.value) and "mkdocs.yml" not in str(raised.value)
    assert "a-literal-secret" not in str(raised.value)


def test_zensical_names_its_table_when_regenerate_has_no_variable_to_read(tmp_path):
    """mode regenerate, and secret_env names no variable for any role: the error says where the
    options are (zensical.toml's table), not the MkDocs plugin's section."""
    project = _zensical_toml(tmp_path, 'mode = "regenerate"\nsecret_env = { inbox = [], outbox = [], browser = [] }\n')
    done = _build("zensical", project, "zensical.toml")
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "needs a secret" in output, output
    assert "plugins.oo-jwt" not in output and "zensical.toml" in output, output


def test_the_extension_entry_of_a_mkdocs_yml_is_named_as_such(tmp_path):
    """`oo-jwt check --config mkdocs.yml` of a site that lists only the extension: a refused option
    is named under markdown_extensions, where it is written, not under plugins.oo-jwt."""
    from mkdocs_oo_jwt.settings import ConfigError, load_mkdocs_yml

    project = _small_site(tmp_path, f"site_name: t\nmarkdown_extensions:\n  - {EXTENSION}:\n      exclude: [drafts/]\n")
    with pytest.raises(ConfigError) as raised:
        load_mkdocs_yml(project / "mkdocs.yml")
    assert f"markdown_extensions.{EXTENSION}: exclude: not an option in mkdocs.yml" in str(raised.value)
    assert "plugins.oo-jwt" not in str(raised.value)


# ---------------------------------------------------------------------------------------------
# 3. INHERIT as Zensical follows it
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("parent, child, passes, field, value", [
    # mappings merged, lists appended: both rules off (MkDocs would keep the child's list alone)
    (f"markdown_extensions:\n  {EXTENSION}:\n    disable: [token-payload-mismatch]\n",
     f"markdown_extensions:\n  {EXTENSION}:\n    disable: [token-unpaired]\n",
     True, "disable", {"token-payload-mismatch", "token-unpaired"}),
    # the parent's list and the child's appended: the extension of the parent runs (MkDocs: no extension)
    (f"markdown_extensions:\n  - {EXTENSION}:\n      fail_on: never\n",
     "markdown_extensions:\n  - admonition\n",
     True, "fail_on", "never"),
    # the extension in both lists: the last entry's options (the child's)
    (f"markdown_extensions:\n  - {EXTENSION}:\n      fail_on: never\n",
     f"markdown_extensions:\n  - {EXTENSION}:\n      disable: [token-unpaired]\n",
     False, "fail_on", "error"),
])
def test_an_inherited_extension_entry_is_read_as_zensical_builds_it(parent, child, passes, field, value, tmp_path):
    """The settings `oo-jwt check --config mkdocs.yml` reads are those `zensical build` runs with:
    the build passes exactly when the settings say the stale token does not fail."""
    from mkdocs_oo_jwt.settings import load_mkdocs_yml

    project = _small_site(tmp_path, f"INHERIT: base.yml\n{child}")
    (project / "base.yml").write_text(f"site_name: t\n{parent}", encoding="utf-8")
    done = _build("zensical", project)
    assert (done.returncode == 0) == passes, done.stdout + done.stderr
    assert "token-payload-mismatch" in done.stdout + done.stderr or value == {"token-payload-mismatch", "token-unpaired"}
    settings = load_mkdocs_yml(project / "mkdocs.yml")
    assert (set(settings.disable) if field == "disable" else getattr(settings, field)) == value


# ---------------------------------------------------------------------------------------------
# 4. the extension's notices at each build
# ---------------------------------------------------------------------------------------------


def test_two_mkdocs_builds_in_one_process_each_say_the_notices(tmp_path, monkeypatch, caplog):
    """The extension alone under MkDocs, two builds in one process (as `mkdocs serve` rebuilds): the
    short secret is said at each, as the plugin says it at each."""
    _needs("mkdocs")
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", SHORT_SECRET)
    project = _small_site(tmp_path, f"site_name: t\nmarkdown_extensions:\n  - {EXTENSION}:\n      fail_on: never\n")
    said = []
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            build(load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site")))
        said.append(sum(SHORT_NOTICE in r.getMessage() for r in caplog.records))
    assert said == [1, 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(path: Path, text: str, count: int, bound: float = 20.0) -> int:
    """How many times ``text`` is in the file once it is there ``count`` times, or when ``bound``
    seconds have passed (a guard against a hang only)."""
    deadline = time.monotonic() + bound
    while True:
        seen = path.read_text(encoding="utf-8", errors="replace").count(text) if path.exists() else 0
        if seen >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_zensical_serve_says_the_notices_at_each_rebuild(tmp_path):
    """`zensical serve` converts the edited pages again at each rebuild: the short secret is said at
    each rebuild (an edit of one page, then of another), not at the first build only."""
    _needs("zensical")
    from mkdocs_oo_jwt.extension import BUILD_GAP

    project = _small_site(tmp_path, f"site_name: t\nmarkdown_extensions:\n  - {EXTENSION}:\n      fail_on: never\n")
    (project / "docs" / "other.md").write_text("# Other\n\nNo token here.\n", encoding="utf-8")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "zensical", "serve", "-f", str(project / "mkdocs.yml"),
                                   "-a", f"127.0.0.1:{_free_port()}"], stdout=out, stderr=subprocess.STDOUT,
                                  env=_env(SHORT_SECRET), cwd=project)
    try:
        # said once by the first build (twice only if a busy machine converted its two pages more than
        # BUILD_GAP apart: counted, not assumed), then once more by each rebuild
        said = _wait_for(log, SHORT_NOTICE, 1)
        assert said >= 1, log.read_text()
        for edit, page in enumerate(("index.md", "other.md"), 1):
            time.sleep(2 * BUILD_GAP)  # a writer's pause between two saves
            said = _wait_for(log, SHORT_NOTICE, said)  # what the build before said, all of it
            path = project / "docs" / page
            path.write_text(path.read_text(encoding="utf-8") + f"\nEdited {edit}.\n", encoding="utf-8")
            now = _wait_for(log, SHORT_NOTICE, said + 1)
            assert now > said, log.read_text()
            said = now
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---------------------------------------------------------------------------------------------
# 5. the extension's summary with a baseline
# ---------------------------------------------------------------------------------------------

SUMMARY_BASELINE = re.compile(r"; baseline: .*")


def test_the_extension_summary_says_the_baseline_counts_as_the_plugin_does(tmp_path):
    """The same site with a baseline that holds its one finding, built by MkDocs with the plugin and
    by Zensical with the extension: both summaries end with the same baseline counts."""
    _needs("mkdocs")
    _needs("zensical")
    project = _small_site(tmp_path, "site_name: t\n"
                          "plugins:\n  - oo-jwt:\n      baseline: baseline.json\n"
                          f"markdown_extensions:\n  - {EXTENSION}:\n      baseline: baseline.json\n")
    written = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--baseline",
                              "baseline.json", "--write-baseline", "docs"], capture_output=True, text=True,
                             env=_env(), cwd=project, timeout=300)
    assert written.returncode == 0, written.stdout + written.stderr
    summaries = {}
    for generator in ("mkdocs", "zensical"):
        done = _build(generator, project)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = [line for line in (done.stdout + done.stderr).splitlines() if "oo-jwt: 0 errors" in line]
        assert len(lines) == 1, done.stdout + done.stderr
        found = SUMMARY_BASELINE.search(lines[0])
        summaries[generator] = found.group(0).split("; pages Zensical")[0] if found else None
    assert summaries["mkdocs"] == "; baseline: 1 finding baselined, 0 entries stale"
    assert summaries["zensical"] == summaries["mkdocs"]
