"""The Python-Markdown extension (``mkdocs_oo_jwt.extension``) as a generator drives it:
``markdown.Markdown(extensions=..., extension_configs=...).convert(body)``, with what each generator
registers about the page (Zensical: a ContextPreprocessor with ``page.path`` and ``config``; MkDocs:
a tree processor holding the page's ``file``), or nothing (a plain Python-Markdown host). Real
builds of the example site by each generator are in test_generators.py.

Every token is checked with PyJWT, never with the tool's own code.
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import jwt
import markdown
import pytest
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from pagekit import SECRET_VARS

from mkdocs_oo_jwt.extension import BuildFailed, OoJwtExtension, body_line
from mkdocs_oo_jwt.settings import OptionError

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site_example"
SECRET = "a-docs-secret-for-the-extension-tests-0123456789"
NAME = "mkdocs_oo_jwt.extension"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
FRONT = "---\ntitle: Commands\noo_jwt: {flow: command}\n---\n"  # 4 lines a generator takes out
BODY = textwrap.dedent("""\
    # Command service

    Request body:

    ```json
    {
        "c": "info",
        "key": "Khirz6zTPdfd7",
        "token": "TOKEN"
    }
    ```
""")
TOKEN_LINE = BODY.split("\n").index('    "token": "TOKEN"') + 1  # 1-based, in the body


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)


def signed(payload: dict, secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


GOOD = signed({"c": "info", "key": "Khirz6zTPdfd7"})
STALE = signed({"c": "info", "key": "another-key"})


class ZensicalContext(Preprocessor):
    """What Zensical registers on each page's Markdown (zensical/extensions/context.py)."""

    def __init__(self, md, root: Path, path: str):
        super().__init__(md)
        self.page = SimpleNamespace(path=path, url="", meta={})
        self.config = {"root_dir": str(root), "docs_dir": "docs"}

    def run(self, lines):
        return lines


class MkDocsRelpath(Treeprocessor):
    """What MkDocs registers before converting a page (mkdocs/structure/pages.py)."""

    def __init__(self, md, file, config):
        super().__init__(md)
        self.file, self.config = file, config

    def run(self, root):
        return root


def convert(body: str, host: str | None = None, root: Path | None = None, **options) -> str:
    md = markdown.Markdown(extensions=["fenced_code", NAME], extension_configs={NAME: options})
    if host == "zensical":
        md.preprocessors.register(ZensicalContext(md, root, "api/commands.md"), "rendering_context", 0)
    elif host == "mkdocs":
        file = SimpleNamespace(src_uri="api/commands.md", abs_src_path=str(root / "docs" / "api" / "commands.md"))
        md.treeprocessors.register(MkDocsRelpath(md, file, {"config_file_path": str(root / "mkdocs.yml")}), "relpath", 0)
    return md.convert(body)


def write_page(root: Path, text: str) -> Path:
    page = root / "docs" / "api" / "commands.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(text.encode("utf-8"))
    return page


# ---------------------------------------------------------------------------------------------
# which page, which line
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["zensical", "mkdocs"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_stale_token_fails_naming_the_file_and_its_true_line(host, newline, tmp_path, caplog):
    """The generator removed the front matter; the finding's line is the file's (front matter counted)."""
    write_page(tmp_path, (FRONT + BODY.replace("TOKEN", STALE)).replace("\n", newline))
    with caplog.at_level(logging.INFO), pytest.raises(BuildFailed) as raised:
        convert(BODY.replace("TOKEN", STALE), host, tmp_path)
    line = TOKEN_LINE + FRONT.count("\n")
    message = str(raised.value)
    assert re.fullmatch(rf"oo-jwt: api/commands\.md:{line}:\d+: token-payload-mismatch \[command\] .*", message), message
    assert "\n" not in message
    assert re.search(rf"api/commands\.md:{line}:\d+: token-payload-mismatch", caplog.text)
    assert {r.name for r in caplog.records} == {"mkdocs.extensions.oo_jwt"}  # under mkdocs.*: --strict counts it
    assert SECRET not in message + caplog.text


def test_without_a_path_the_page_is_named_by_its_heading_and_hash_and_lines_count_from_the_body(caplog):
    body = BODY.replace("TOKEN", STALE)
    with pytest.raises(BuildFailed) as raised:
        convert(body)
    message = str(raised.value)
    assert re.fullmatch(rf'oo-jwt: page "Command service" \(body sha256:[0-9a-f]{{16}}\), body line {TOKEN_LINE}, '
                        r"column \d+: token-payload-mismatch \[command\] .*", message), message
    other = body.replace("Request body:", "The request body:")  # another page: another name
    with pytest.raises(BuildFailed) as again:
        convert(other)
    assert str(again.value).split(")")[0] != message.split(")")[0]


def test_a_body_changed_on_the_way_is_checked_as_handed_over(tmp_path):
    """Something (a plugin, a preprocessor) changed the text: what renders is checked, named by the file."""
    write_page(tmp_path, FRONT + BODY.replace("TOKEN", GOOD))
    changed = "Inserted by a plugin.\n\n" + BODY.replace("TOKEN", STALE)
    with pytest.raises(BuildFailed) as raised:
        convert(changed, "zensical", tmp_path)
    assert re.match(rf"oo-jwt: api/commands\.md \(as handed to Python-Markdown\), body line {TOKEN_LINE + 2}, ",
                    str(raised.value)), str(raised.value)


def test_body_line_finds_the_body_after_the_front_matter_only_if_it_is_the_rest_of_the_file():
    assert body_line(FRONT + BODY, BODY) == 4
    assert body_line((FRONT + "\n\n" + BODY).replace("\n", "\r\n"), BODY) == 6  # MkDocs strips blank lines too
    assert body_line(BODY, BODY) == 0
    assert body_line(FRONT + BODY, BODY.replace("info", "infos")) is None
    assert body_line("x# Command service\n", "# Command service\n") is None  # not at a line start


# ---------------------------------------------------------------------------------------------
# regenerate
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["zensical", "mkdocs", None])
def test_regenerate_fills_a_placeholder_and_leaves_the_file_as_it_is(host, tmp_path):
    source = FRONT + BODY.replace("TOKEN", "<oo-jwt>")
    page = write_page(tmp_path, source)
    out = convert(BODY.replace("TOKEN", "<oo-jwt>"), host, tmp_path, mode="regenerate")
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert "<oo-jwt>" not in text
    (token,) = JWT.findall(text)
    assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"c": "info", "key": "Khirz6zTPdfd7"}
    assert page.read_text(encoding="utf-8") == source
    assert SECRET not in out


def test_in_verify_mode_a_placeholder_is_left_and_the_page_passes(tmp_path):
    out = convert(BODY.replace("TOKEN", "<oo-jwt>"))
    assert "&lt;oo-jwt&gt;" in out


def test_regenerate_without_a_secret_fails_with_one_line_naming_the_variables(monkeypatch):
    monkeypatch.delenv("OO_JWT_SECRET")
    with pytest.raises(BuildFailed) as raised:
        convert(BODY.replace("TOKEN", "<oo-jwt>"), mode="regenerate")
    message = str(raised.value)
    assert "\n" not in message and "needs a secret" in message and "OO_JWT_SECRET" in message


def test_a_clean_page_converts_and_logs_no_warning(caplog):
    with caplog.at_level(logging.DEBUG, logger="mkdocs.extensions.oo_jwt"):
        out = convert(BODY.replace("TOKEN", GOOD))
    assert GOOD in out
    assert not [r for r in caplog.records if r.name.startswith("mkdocs.extensions") and r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------------------------------
# fail_on and options
# ---------------------------------------------------------------------------------------------


def test_fail_on_never_logs_the_error_at_info_and_converts(caplog):
    with caplog.at_level(logging.INFO):
        convert(BODY.replace("TOKEN", STALE), fail_on="never")
    records = [r for r in caplog.records if "token-payload-mismatch" in r.getMessage()]
    assert records and all(r.levelno == logging.INFO for r in records)


def test_disable_turns_the_rule_off():
    convert(BODY.replace("TOKEN", STALE), disable=["token-payload-mismatch"])


@pytest.mark.parametrize("options, problem", [
    ({"mode": "sign"}, "mode: expected one of verify, regenerate"),
    ({"fail_onn": "error"}, "fail_onn: unknown option (did you mean fail_on?)"),
    ({"exclude": ["x"]}, "exclude: not an option in mkdocs.yml"),
    ({"disable": ["no-such-rule"]}, "disable: unknown rule id(s): no-such-rule"),
    ({"keep_claims": "yes"}, "keep_claims: expected true or false"),  # Python-Markdown alone would read "yes" as True
    ({"disable": "token-unpaired", "max_samples_per_page": 0}, "max_samples_per_page: expected a positive whole number"),
])
def test_options_are_checked_as_the_plugin_checks_them(options, problem):
    with pytest.raises(OptionError) as raised:
        OoJwtExtension(**options)
    assert f"{raised.value.option}: {raised.value.problem}".startswith(problem)
    assert "\n" not in str(raised.value)


def test_a_list_option_stays_a_list():
    """Python-Markdown's own setConfig reads any value of an option whose default is None as a bool."""
    extension = OoJwtExtension(disable=["token-unpaired", "flow-unknown"])
    assert extension.settings(Path.cwd()).disable == {"token-unpaired", "flow-unknown"}


# ---------------------------------------------------------------------------------------------
# under MkDocs, with and without the plugin; without MkDocs at all
# ---------------------------------------------------------------------------------------------


def _small_site(root: Path, plugin: bool, token: str) -> Path:
    write_page(root, FRONT + BODY.replace("TOKEN", token))
    config = root / "mkdocs.yml"
    config.write_text(
        "site_name: t\nmarkdown_extensions:\n  - fenced_code\n  - mkdocs_oo_jwt.extension\n"
        + ("plugins:\n  - oo-jwt\n" if plugin else "plugins: []\n"),
        encoding="utf-8",
    )
    return config


def _mkdocs(config: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs", reason="MkDocs is not installed (the extra mkdocs-oo-jwt[mkdocs])")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(config.parent / "out")]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=config.parent, timeout=300)


def test_under_mkdocs_without_the_plugin_the_extension_fails_the_build_in_one_line(tmp_path):
    result = _mkdocs(_small_site(tmp_path, plugin=False, token=STALE))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    line = TOKEN_LINE + FRONT.count("\n")
    assert re.search(rf"ERROR +- +oo-jwt: api/commands\.md:{line}:\d+: token-payload-mismatch", output), output
    assert "Aborted with a BuildError" in output and "Traceback" not in output


def test_under_mkdocs_with_the_plugin_there_is_one_check_and_one_report(tmp_path):
    result = _mkdocs(_small_site(tmp_path, plugin=True, token=STALE))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    line = TOKEN_LINE + FRONT.count("\n")
    assert len(re.findall(rf"api/commands\.md:{line}:\d+: token-payload-mismatch", output)) == 1, output
    assert "left to the plugin" in output and "BuildError" not in output
    clean = _mkdocs(_small_site(tmp_path / "clean", plugin=True, token=GOOD))
    assert clean.returncode == 0, clean.stderr


BLOCK_MKDOCS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("mkdocs", "properdocs", "yaml_env_tag", "mergedeep"):
            raise ImportError("not installed: " + name)
sys.meta_path.insert(0, Block())
"""


def test_the_extension_and_reading_mkdocs_yml_need_no_mkdocs(tmp_path):
    """A Zensical site installs mkdocs-oo-jwt without MkDocs (an extra): the extension runs, and
    `oo-jwt check --config mkdocs.yml` reads the file (!ENV, INHERIT) as MkDocs would."""
    write_page(tmp_path, BODY.replace("TOKEN", STALE))
    (tmp_path / "base.yml").write_text("site_name: t\nplugins:\n  - oo-jwt:\n      fail_on: !ENV [DOCS_FAIL_ON, error]\n"
                                       "      secrets:\n        inbox: !ENV [DOCS_SECRET, null]\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\n", encoding="utf-8")
    script = BLOCK_MKDOCS + textwrap.dedent(f"""
        import markdown
        from pathlib import Path
        from mkdocs_oo_jwt.settings import load_mkdocs_yml, secrets_from_env
        from mkdocs_oo_jwt.extension import BuildFailed
        settings = load_mkdocs_yml(Path("mkdocs.yml"))
        print(settings.fail_on, secrets_from_env(settings)["inbox"].reveal() == "007")
        try:
            markdown.Markdown(extensions=["fenced_code", "{NAME}"]).convert(Path("docs/api/commands.md").read_text())
        except BuildFailed as exc:
            print(exc)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("mkdocs", "properdocs")))
    """)
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update(OO_JWT_SECRET=SECRET, DOCS_FAIL_ON="warning", DOCS_SECRET="007")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    settings_line, failure, modules = result.stdout.splitlines()
    assert settings_line == "warning True"
    assert re.match(rf'oo-jwt: page "Command service" .*body line {TOKEN_LINE}, .*token-payload-mismatch', failure)
    assert modules == "[]"


def test_an_edited_flow_schema_is_read_again_by_the_next_page(tmp_path, secret):
    """The flows are loaded once per process and kept while their files are unchanged: a server
    that renders pages again (zensical serve, mkdocs serve) reads a flow schema edited meanwhile."""
    import json
    import shutil

    flows = tmp_path / "flows"
    flows.mkdir()
    schema = flows / "command.json"
    shutil.copy(Path(__file__).parent.parent / "schemas" / "command.json", schema)
    body = f"# Commands\n\nRequest to the command service:\n\n```json\n{{\"c\": \"info\", \"key\": \"Khirz6zTPdfd7\"}}\n```\n"
    convert(body, flows_dir=str(flows))  # passes: "info" is a command
    data = json.loads(schema.read_text(encoding="utf-8"))
    data["properties"]["c"]["enum"].remove("info")
    schema.write_text(json.dumps(data), encoding="utf-8")
    stat = schema.stat()
    os.utime(schema, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a second later, whatever the clock's grain
    with pytest.raises(BuildFailed, match=r"schema \[command\] /c"):
        convert(body, flows_dir=str(flows))
