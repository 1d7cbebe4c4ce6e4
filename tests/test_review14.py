"""The extension's one-line failure must not cost another extension its traceback.

To print its failure as one line, the extension sets ``sys.tracebacklimit = 0`` in a generator's
process. That setting is the whole process's: an error of the user's own extensions, printed later
in the same process, would lose the frames that say where it happened. Zensical renders the pages
left after a failing one (and prints what other extensions format on them); ``mkdocs serve`` goes
on after a configuration it refused and loads the extensions again at the next rebuild.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from test_generators import _env, _needs, build, copy_site, extension_alone, spoil_a_token

USER_EXTENSION = '''
import sys, traceback
from markdown import Extension
from markdown.preprocessors import Preprocessor


def lookup_macro(name):
    raise LookupError(f"no macro named {name}")


class Macros(Preprocessor):
    """A user's extension that shows its own errors with their traceback (as Zensical's macros do)."""

    def run(self, lines):
        if lines and "Workspace" in lines[0]:
            try:
                lookup_macro("workspace_url")
            except LookupError:
                sys.stderr.write("user extension failed on workspace.md:\\n" + traceback.format_exc())
        return lines


class UserExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(Macros(md), "user_macros", 1)


def makeExtension(**kwargs):
    return UserExtension(**kwargs)
'''


def test_under_zensical_a_later_pages_error_of_another_extension_keeps_its_frames(tmp_path):
    """A stale token on token-in-header.md fails the build in one line; workspace.md, which Zensical
    renders after it, has an error of the user's own extension, whose traceback still says where."""
    _needs("zensical")
    project = extension_alone(copy_site(tmp_path / "site_example"))
    (project / "user_extension.py").write_text(USER_EXTENSION, encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  - mkdocs_oo_jwt.extension:", "  - user_extension\n  - mkdocs_oo_jwt.extension:"), encoding="utf-8")
    number = spoil_a_token(project)
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(project), *filter(None, [env.get("PYTHONPATH")])])
    result, _ = build("zensical", project, env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    ours = re.search(rf"oo-jwt: token-in-header\.md:{number + 1}:\d+: token-signature ", result.stderr)
    theirs = result.stderr.find("user extension failed on workspace.md")
    assert ours and theirs >= 0, output
    if theirs < ours.start():
        pytest.skip("Zensical rendered workspace.md before the failing page: the case does not arise")
    # their traceback: the frames of their code, as without oo-jwt
    assert re.search(r'File "[^"]*user_extension\.py", line \d+, in lookup_macro', output), output
    # ours: still one line, no traceback of its own
    assert re.search(rf"RuntimeError: Python error: BuildFailed: oo-jwt: token-in-header\.md:{number + 1}:", output), output
    assert output.count("Traceback (most recent call last)") == 1, output


MKDOCS_SERVE_REBUILDS = '''
import logging, sys
sys.argv = ["mkdocs", "serve"]  # the generator's process, as `mkdocs serve` is
logging.basicConfig(level=logging.ERROR, format="%(message)s")
from mkdocs.config import load_config
from mkdocs.exceptions import Abort
for config in sys.stdin.read().split():  # each rebuild loads mkdocs.yml again
    try:
        load_config(config)
    except Abort:
        print("rebuild refused:", config, file=sys.stderr)
print("tracebacklimit:", getattr(sys, "tracebacklimit", "unset"), file=sys.stderr)
'''


def test_under_mkdocs_serve_an_extension_that_fails_to_load_after_ours_keeps_its_frames(tmp_path):
    """`mkdocs serve` goes on after a rebuild whose mkdocs.yml it refused: the extension's refused
    option is one line, and the next rebuild's failing extension of the user's shows its frames."""
    _needs("mkdocs")
    (tmp_path / "docs").mkdir()
    (tmp_path / "user_extension.py").write_text(
        "def load_macros():\n    raise ImportError('the macros module is missing')\n\n\n"
        "def makeExtension(**kwargs):\n    load_macros()\n", encoding="utf-8")
    refused = tmp_path / "refused.yml"
    refused.write_text("site_name: t\nmarkdown_extensions:\n  - mkdocs_oo_jwt.extension:\n      mode: sign\n",
                       encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text("site_name: t\nmarkdown_extensions:\n  - user_extension\n  - mkdocs_oo_jwt.extension\n",
                      encoding="utf-8")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run([sys.executable, "-c", MKDOCS_SERVE_REBUILDS], input=f"{refused}\n{broken}\n",
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    output = result.stderr
    assert output.count("rebuild refused") == 2, output
    first, second = output.split(f"rebuild refused: {refused}")
    assert "mode: expected one of verify, regenerate, not 'sign'" in first and 'File "' not in first, output
    assert re.search(r'File "[^"]*user_extension\.py", line \d+, in load_macros', second), output
    assert "tracebacklimit: unset" in output, output



KEEPS_THE_EXTENSIONS = '''
import markdown
from mkdocs.plugins import event_priority

kept = {}


@event_priority(100)  # before oo-jwt's on_config, as a plugin listed before it
def on_config(config):
    # as mkdocstrings does: its handlers keep the list of Markdown extensions, to render docstrings
    kept["extensions"], kept["configs"] = config.markdown_extensions, config.mdx_configs
    return config


def on_page_content(html, page, config, files):
    fragment = markdown.Markdown(extensions=kept["extensions"], extension_configs=kept["configs"])
    return html + fragment.convert("## A docstring\\n\\nRendered with the site's extensions.\\n")
'''


def test_both_front_ends_under_mkdocs_one_check_even_for_a_plugin_that_keeps_the_extensions_list(tmp_path):
    """The plugin takes the extension out of the build's Markdown extensions: out of the list itself,
    which a plugin that ran before it may keep (mkdocstrings' handlers keep it to render docstrings),
    not only out of the config (the extension would check each docstring too, and report again)."""
    _needs("mkdocs")
    project = copy_site(tmp_path / "site_example")
    (project / "keeps_extensions.py").write_text(KEEPS_THE_EXTENSIONS, encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "hooks:\n  - keeps_extensions.py\n", encoding="utf-8")
    result, out = build("mkdocs", project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "A docstring" in (out / "index.html").read_text(encoding="utf-8")  # the hook ran
    assert "left to the plugin" in output, output
    assert len(re.findall(r"oo-jwt: \d+ errors?, \d+ warnings?, \d+ infos? in \d+ pages?", output)) == 1, output


@pytest.mark.parametrize("generator", ["mkdocs", "properdocs", "zensical"])
def test_both_front_ends_with_panels_and_a_baseline_check_once_and_report_once(generator, tmp_path):
    """site_example lists the plugin and the extension; both given panels and a baseline that holds
    the one stale token: the build passes --strict, says one summary, logs the baselined finding at
    no level a user sees by default, and puts one panel under each sample token, never two."""
    _needs(generator)
    project = copy_site(tmp_path / "site_example")
    spoil_a_token(project)
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    for entry in ("  - mkdocs_oo_jwt.extension:\n      mode: regenerate\n", "  - oo-jwt:\n      mode: regenerate\n"):
        assert entry in text
        text = text.replace(entry, entry + "      panels: true\n      baseline: .oo-jwt-baseline.json\n")
    config.write_text(text, encoding="utf-8")
    written = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--baseline",
                              ".oo-jwt-baseline.json", "--write-baseline", "docs"],
                             capture_output=True, text=True, env=_env(), cwd=project, timeout=300)
    assert written.returncode == 0 and "1 finding baselined" in written.stdout, written.stdout + written.stderr

    result, out = build(generator, project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert len(re.findall(r"oo-jwt: \d+ errors?, \d+ warnings?, \d+ infos? in 7 pages", output)) == 1, output
    assert "token-signature" not in output, output
    page = (out / "token-in-header" / "index.html").read_text(encoding="utf-8")
    tokens = len(re.findall(r"Bearer eyJ", (project / "docs" / "token-in-header.md").read_text(encoding="utf-8")))
    assert tokens >= 3 and len(re.findall(r'<details class="[^"]*\boo-jwt-panel\b', page)) == tokens, (tokens, page.count("oo-jwt-panel"))


ADVISED_PLUGIN = """site_name: t
plugins:
  - oo-jwt:
      fail_on: warning
      secrets:
        inbox: !ENV [MY_INBOX, null]
      secret_env:
        outbox: [MY_OUTBOX]
      overrides:
        - paths: [drafts/]
          fail_on: never
          disable: [token-unpaired]
      panels: true
"""


def test_the_zensical_advice_reads_as_the_plugins_settings_when_pasted(tmp_path):
    """`oo-jwt check --config mkdocs.yml` on a site Zensical would build without oo-jwt says what to
    add to zensical.toml, with the plugin's options (overrides and secret_env are tables): pasted as
    said, zensical.toml is read with the same settings as the plugin's."""
    from mkdocs_oo_jwt.settings import load_mkdocs_yml, load_pyproject

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(ADVISED_PLUGIN, encoding="utf-8")
    toml = tmp_path / "zensical.toml"
    toml.write_text('[project]\nsite_name = "t"\n', encoding="utf-8")
    env = _env()
    result = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--config", "mkdocs.yml",
                             "docs"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    advice = re.search(r'add (\[project\.markdown_extensions\."mkdocs_oo_jwt\.extension"\]) to zensical\.toml with (.+)$',
                       result.stderr, re.M)
    assert advice, result.stderr
    table = advice.group(2)
    toml.write_text(f'[project]\nsite_name = "t"\n\n{advice.group(1)}\n' + "\n".join(
        _toml_items(table)) + "\n", encoding="utf-8")
    plugin, pasted = load_mkdocs_yml(tmp_path / "mkdocs.yml", {}), load_pyproject(toml)
    assert pasted.overrides == plugin.overrides and pasted.overrides
    assert pasted.secret_env == plugin.secret_env and pasted.fail_on == plugin.fail_on == "warning"


def _toml_items(text: str) -> list[str]:
    """``a = 1, b = { c = [2, 3] }``: the key/value pairs of the advice, one a line (commas
    inside brackets and braces belong to their values)."""
    items, depth, start, quoted = [], 0, 0, False
    for at, char in enumerate(text):
        if char == '"' and text[at - 1] != "\\":
            quoted = not quoted
        elif not quoted and char in "[{":
            depth += 1
        elif not quoted and char in "]}":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            items.append(text[start:at].strip())
            start = at + 1
    return [*items, text[start:].strip()]


def test_the_zensical_advice_for_an_option_with_an_env_tag_inside_names_it(tmp_path):
    """An option whose value holds an ``!ENV`` inside (a list's item, an override's value), which a
    build reads as it reads any, is checked, and the advice names it to set, as it names an option
    given whole by ``!ENV`` (the extension's options are not read with ``!ENV``): no internal
    error, no option left out of the advice in silence."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - oo-jwt:\n      fail_on: warning\n"
        "      disable: [token-weak-secret, !ENV [DOCS_RULE, token-unpaired]]\n"
        "      overrides:\n        - paths: [drafts/]\n          fail_on: !ENV [DOCS_DRAFTS_FAIL_ON, never]\n",
        encoding="utf-8")
    (tmp_path / "zensical.toml").write_text('[project]\nsite_name = "t"\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--config", "mkdocs.yml",
                             "docs"], capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300)
    assert result.returncode == 0 and "no problems in 1 page" in result.stdout, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("oo-jwt: warning: zensical build reads zensical.toml"), line
    assert 'with fail_on = "warning" (and set disable, overrides for it as the plugin\'s are set' in line, line
