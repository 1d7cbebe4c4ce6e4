"""One option surface: the same input through every front end gives the same settings or the same
one-line error. Front ends: [tool.oo-jwt] in pyproject.toml (the command), the plugin section of
mkdocs.yml read by `oo-jwt check --config mkdocs.yml`, the same section read by the MkDocs plugin
(its ``load_config``, as MkDocs calls it), the same options under ``markdown_extensions:`` handed to
the Python-Markdown extension (as a generator hands them: ``!ENV`` already read), and the command
line's flags."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mkdocs_oo_jwt.settings import (
    CLI, MKDOCS, OPTIONS, PYPROJECT, ConfigError, OptionError, Settings, find_pyproject, load_mkdocs_yml,
    load_pyproject, markdown_extension_config, with_cli,
)

SECRET = "a-secret-from-the-environment-0123456789"


def _toml(value) -> str:
    return json.dumps(value)  # JSON scalars, lists and inline tables of strings are TOML too


def via_pyproject(folder: Path, options: dict):
    lines = ["[tool.oo-jwt]"]
    for key, value in options.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{key} = {_toml(value)}")
    path = folder / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _outcome(lambda: load_pyproject(path))


def _yaml(options: dict, indent: str = "      ") -> str:
    out = []
    for key, value in options.items():
        if isinstance(value, dict):
            out.append(f"{indent}{key}:")
            out += [f"{indent}  {k}: {v if isinstance(v, str) and v.startswith('!') else json.dumps(v)}"
                    for k, v in value.items()]
        else:
            shown = value if isinstance(value, str) and value.startswith("!") else json.dumps(value)
            out.append(f"{indent}{key}: {shown}")
    return "\n".join(out) + "\n"


def write_mkdocs_yml(folder: Path, options: dict, inherit: bool = False) -> Path:
    (folder / "docs").mkdir(exist_ok=True)
    body = "plugins:\n  - oo-jwt:\n" + _yaml(options)
    if inherit:  # the options live in the parent; mkdocs.yml only inherits them
        (folder / "base.yml").write_text("site_name: t\n" + body, encoding="utf-8")
        (folder / "mkdocs.yml").write_text("INHERIT: base.yml\n", encoding="utf-8")
    else:
        (folder / "mkdocs.yml").write_text("site_name: t\n" + body, encoding="utf-8")
    return folder / "mkdocs.yml"


def via_command_mkdocs(folder: Path, options: dict, inherit: bool = False):
    path = write_mkdocs_yml(folder, options, inherit)
    return _outcome(lambda: load_mkdocs_yml(path))


def via_plugin(folder: Path, options: dict, inherit: bool = False):
    """What MkDocs does with the plugin section: read the file with its loader, hand the options to
    the plugin's load_config."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.plugin import OoJwtPlugin

    path = write_mkdocs_yml(folder, options, inherit)
    with open(path, "rb") as fd:
        data = yaml_load(fd)
    section = next(item["oo-jwt"] for item in data["plugins"] if isinstance(item, dict))
    plugin = OoJwtPlugin()
    errors, _ = plugin.load_config(dict(section), str(path))
    if errors:
        key, error = errors[0]
        return ("error", f"{key}: {error}")
    return ("settings", plugin._settings)


def via_extension(folder: Path, options: dict, inherit: bool = False):
    """What a generator does with the extension's entry: read mkdocs.yml with its loader (``!ENV``
    read), build the extension with the entry's options (Python-Markdown's ``makeExtension(**options)``),
    and resolve paths from the config file's folder."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.extension import makeExtension

    path = write_mkdocs_yml(folder, options, inherit)
    text = path.read_text(encoding="utf-8") if not inherit else (folder / "base.yml").read_text(encoding="utf-8")
    text = text.replace("plugins:\n  - oo-jwt:\n", "markdown_extensions:\n  - mkdocs_oo_jwt.extension:\n")
    section_file = folder / ("ext-base.yml" if inherit else "ext.yml")
    section_file.write_text(text, encoding="utf-8")
    if inherit:
        (folder / "ext.yml").write_text("INHERIT: ext-base.yml\n", encoding="utf-8")
    with open(folder / "ext.yml", "rb") as fd:
        data = yaml_load(fd)
    section = next(item["mkdocs_oo_jwt.extension"] for item in data["markdown_extensions"] if isinstance(item, dict))
    return _outcome(lambda: makeExtension(**section).settings(folder))


def via_command_line(options: dict):
    flags = {o.name: o for o in OPTIONS if CLI in o.where}
    if any(name not in flags for name in options):
        return None
    values = {name: ([value] if flags[name].repeat and isinstance(value, str) else value) for name, value in options.items()}
    return _outcome(lambda: with_cli(Settings(), values))


def _outcome(load):
    try:
        return ("settings", load())
    except OptionError as exc:
        return ("error", f"{exc.option}: {exc.problem}")
    except ConfigError as exc:
        return ("error", str(exc))


def comparable(outcome, root: Path):
    kind, value = outcome
    if kind == "settings":
        return kind, replace(value, root=None)  # the config file's folder: the same file's folder here
    return outcome


# (input, where it may be written: the front ends that must accept it alike)
TABLE = [
    ({"fail_on": "warning"}, (PYPROJECT, MKDOCS, CLI)),
    ({"version": "7.1", "disable": ["token-weak-secret"], "keep_claims": True}, (PYPROJECT, MKDOCS)),
    ({"max_samples_per_page": 10, "max_json_depth": 20}, (PYPROJECT, MKDOCS)),
    ({"secret_env": {"inbox": ["MY_DS_INBOX_SECRET"]}}, (PYPROJECT, MKDOCS)),
    # a typo and an unknown key
    ({"fail_onn": "error"}, (PYPROJECT, MKDOCS)),
    ({"colour": "red"}, (PYPROJECT, MKDOCS)),
    # wrong types and values
    ({"fail_on": 3}, (PYPROJECT, MKDOCS)),
    ({"fail_on": "sometimes"}, (PYPROJECT, MKDOCS, CLI)),
    ({"max_page_bytes": "big"}, (PYPROJECT, MKDOCS)),
    ({"max_samples_per_page": 0}, (PYPROJECT, MKDOCS)),
    ({"version": True}, (PYPROJECT, MKDOCS)),
    ({"version": "not-a-version"}, (PYPROJECT, MKDOCS, CLI)),
    ({"disable": ["no-such-rule"]}, (PYPROJECT, MKDOCS, CLI)),
    ({"disable": [1]}, (PYPROJECT, MKDOCS)),
    ({"keep_claims": "maybe"}, (PYPROJECT, MKDOCS)),
    ({"secret_env": {"inbx": "X"}}, (PYPROJECT, MKDOCS)),
    ({"flows_dir": "no-such-folder"}, (PYPROJECT, MKDOCS)),
    # options of one place only, given in the other: named, with where they belong
    ({"mode": "regenerate"}, (PYPROJECT, MKDOCS)),
    ({"exclude": ["drafts/"]}, (PYPROJECT, MKDOCS)),
    ({"now": 0}, (PYPROJECT, MKDOCS)),
]


@pytest.mark.parametrize("options, where", TABLE, ids=[json.dumps(o) for o, _ in TABLE])
def test_the_same_input_gives_the_same_settings_or_error_everywhere(options, where, tmp_path):
    results = {}
    if PYPROJECT in where:
        results["pyproject"] = via_pyproject(tmp_path, options)
    if MKDOCS in where:
        results["check --config mkdocs.yml"] = via_command_mkdocs(tmp_path, options)
        results["plugin"] = via_plugin(tmp_path, options)
        results["extension"] = via_extension(tmp_path, options)
    if CLI in where:
        cli = via_command_line(options)
        if cli is not None:
            results["command line"] = cli
    for name, outcome in results.items():
        assert outcome[0] in ("settings", "error")
        if outcome[0] == "error":
            assert "\n" not in outcome[1] and "Traceback" not in outcome[1], (name, outcome)
    files = {k: comparable(v, tmp_path) for k, v in results.items() if k != "command line"}
    # every file front end: same settings, or the same problem with the same option
    kinds = {k: v[0] for k, v in files.items()}
    allowed = {k: v for k, v in files.items()}
    if len({o for o, _ in allowed.values()}) > 1:
        # an option of one place only: an error where it is not one, settings where it is
        only = [o for o in OPTIONS if o.name in options and (PYPROJECT in o.where) != (MKDOCS in o.where)]
        assert only, f"front ends disagree: {kinds}"
        return
    values = list(allowed.values())
    assert all(v == values[0] for v in values), "front ends disagree:\n" + "\n".join(f"{k}: {v}" for k, v in allowed.items())
    if "command line" in results:
        cli_kind, cli_value = results["command line"]
        assert cli_kind == values[0][0]
        if cli_kind == "error":  # the same problem, under the flag's name
            assert cli_value.split(": ", 1)[1] == values[0][1].split(": ", 1)[1]
        else:
            for field in ("fail_on", "version", "disable"):
                assert getattr(cli_value, field) == getattr(values[0][1], field)


def test_options_of_one_place_say_where_they_belong(tmp_path):
    assert via_pyproject(tmp_path, {"mode": "regenerate"}) == (
        "error", "mode: not an option in pyproject.toml (it is one in mkdocs.yml)")
    assert via_plugin(tmp_path, {"exclude": ["drafts/"]}) == (
        "error", "exclude: not an option in mkdocs.yml (it is one in pyproject.toml)")
    assert via_command_mkdocs(tmp_path, {"exclude": ["drafts/"]}) == via_plugin(tmp_path, {"exclude": ["drafts/"]})
    assert via_pyproject(tmp_path, {"now": 0}) == ("error", "now: unknown option (the options are in the README)")
    assert via_plugin(tmp_path, {"fail_onn": "error"}) == ("error", "fail_onn: unknown option (did you mean fail_on?)")
    assert via_extension(tmp_path, {"exclude": ["drafts/"]}) == via_plugin(tmp_path, {"exclude": ["drafts/"]})
    assert via_extension(tmp_path, {"fail_onn": "error"}) == via_plugin(tmp_path, {"fail_onn": "error"})


@pytest.mark.parametrize("inherit", [False, True], ids=["mkdocs.yml", "INHERIT"])
def test_env_tags_and_inherit_read_as_a_build_reads_them(inherit, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCS_FAIL_ON", "warning")
    monkeypatch.setenv("DOCS_SECRET", "007")  # MkDocs' !ENV reads the int 7; the secret is "007"
    monkeypatch.delenv("NOT_SET", raising=False)
    options = {"fail_on": "!ENV [DOCS_FAIL_ON, error]",
               "secrets": {"inbox": "!ENV [DOCS_SECRET, null]", "outbox": "!ENV [NOT_SET, null]"}}
    command = via_command_mkdocs(tmp_path, options, inherit)
    plugin = via_plugin(tmp_path, options, inherit)
    assert command == plugin and command[0] == "settings"
    settings = command[1]
    assert settings.fail_on == "warning"
    assert settings.secret_env["inbox"] == ("DOCS_SECRET",) and settings.secret_env["outbox"] == ("NOT_SET",)
    from mkdocs_oo_jwt.settings import secrets_from_env

    assert secrets_from_env(settings)["inbox"].reveal() == "007" and "outbox" not in secrets_from_env(settings)
    assert "007" not in repr(settings)
    # the extension is handed the values (!ENV read by the generator): the same settings in effect
    kind, extension = via_extension(tmp_path, options, inherit)
    assert kind == "settings" and extension.fail_on == "warning"
    assert {r: s.reveal() for r, s in secrets_from_env(extension).items()} == {"inbox": "007"}
    assert "007" not in repr(extension)


@pytest.mark.parametrize("secret", ["a-literal-secret-in-the-file-0123", "!ENV [DOCS_SECRET, default-in-the-file]"],
                         ids=["literal", "env-default"])
def test_a_secret_written_in_mkdocs_yml_is_the_same_error_everywhere(secret, tmp_path, monkeypatch):
    monkeypatch.setenv("OO_JWT_SECRET", "a-literal-secret-in-the-file-0123")  # even if the environment holds it
    monkeypatch.delenv("DOCS_SECRET", raising=False)
    options = {"secrets": {"inbox": secret}}
    command, plugin = via_command_mkdocs(tmp_path, options), via_plugin(tmp_path, options)
    assert command == plugin and command[0] == "error", (command, plugin)
    assert command[1].startswith("secrets: inbox: ") and "!ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null]" in command[1]
    assert "a-literal-secret" not in command[1] and "default-in-the-file" not in command[1]
    # The extension is handed the value with the tag already read, so it tells a secret of the
    # environment only by the variable that holds it (as the plugin does for a config given from
    # Python): a value no variable holds is the same error. (One it cannot see: a literal that an
    # environment variable happens to hold too; README, "Site generators".)
    monkeypatch.setenv("OO_JWT_SECRET", "another-secret-of-the-environment-0123")
    extension = via_extension(tmp_path, options)
    assert extension[0] == "error", extension
    assert extension[1].startswith("secrets: inbox: ") and "!ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null]" in extension[1]
    assert "a-literal-secret" not in extension[1] and "default-in-the-file" not in extension[1]


def test_pyproject_is_found_from_a_subfolder_up_to_the_repository_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[tool.oo-jwt]\nfail_on = \"warning\"\n", encoding="utf-8")
    (repo / "docs" / "api").mkdir(parents=True)
    (repo / "docs" / "pyproject.toml").write_text(  # it names the tool, but has no table of its options
        "[project]\nname = \"not-ours\"\ndependencies = [\"mkdocs-oo-jwt\"]\n", encoding="utf-8")
    assert find_pyproject(repo / "docs" / "api") == repo / "pyproject.toml"  # the nearest with [tool.oo-jwt]
    (tmp_path / "pyproject.toml").write_text("[tool.oo-jwt]\nfail_on = \"never\"\n", encoding="utf-8")
    (repo / "pyproject.toml").write_text("[project]\nname = \"x\"\n", encoding="utf-8")
    assert find_pyproject(repo / "docs") is None  # not above the repository's root


def test_the_command_finds_it_too(tmp_path, monkeypatch, capsys):
    from mkdocs_oo_jwt.cli import main

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[tool.oo-jwt]\nfail_on = \"never\"\n", encoding="utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "a.md").write_text('# Commands\n\n```json\n{\n    "c": "infoo",\n    "key": "k"\n}\n```\n',
                                       encoding="utf-8")
    monkeypatch.chdir(repo / "docs")
    assert main(["check", "--no-cache", "."]) == 0  # the error is there, fail_on never from ../pyproject.toml
    assert "schema" in capsys.readouterr().out


def test_the_plugin_config_and_the_markdown_extension_config_are_derived_from_the_declarations():
    from mkdocs_oo_jwt.plugin import OoJwtConfig

    from mkdocs_oo_jwt.extension import OoJwtExtension

    mkdocs_options = [o.name for o in OPTIONS if MKDOCS in o.where]
    assert [name for name, _ in OoJwtConfig._schema] == mkdocs_options
    assert list(markdown_extension_config()) == mkdocs_options
    assert markdown_extension_config()["fail_on"][0] == "error"
    assert list(OoJwtExtension().config) == mkdocs_options
