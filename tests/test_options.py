"""One option surface: the same input through every front end gives the same settings or the same
one-line error. Front ends: [tool.oo-jwt] in pyproject.toml (the command), the plugin section of
mkdocs.yml read by `oo-jwt check --config mkdocs.yml`, the same section read by the MkDocs plugin
(its ``load_config``, as MkDocs calls it), the same options under ``markdown_extensions:`` handed to
the Python-Markdown extension (as a generator hands them: ``!ENV`` already read), and the command
line's flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mkdocs_oo_jwt.settings import (
    CLI, MKDOCS, OPTIONS, PYPROJECT, ConfigError, OptionError, Settings, find_pyproject, load_mkdocs_yml,
    load_pyproject, markdown_extension_config, with_cli,
)

SECRET = "a-secret-from-the-environment-0123456789"


def _toml(value) -> str:
    """A TOML value: strings, numbers, booleans, arrays and inline tables (None has no TOML form)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert value is not None
    return json.dumps(value)  # a JSON string, number, true or false is the same TOML


def _toml_table(header: str, options: dict) -> str:
    return "\n".join([header, *(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in options.items())]) + "\n"


def _has_none(value) -> bool:
    if isinstance(value, dict):
        return any(_has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_none(v) for v in value)
    return value is None


def via_pyproject(folder: Path, options: dict):
    path = folder / "pyproject.toml"
    path.write_text(_toml_table("[tool.oo-jwt]", options), encoding="utf-8")
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


ZENSICAL_TABLE = '[project.markdown_extensions."mkdocs_oo_jwt.extension"]'


def write_zensical_toml(folder: Path, options: dict, header: str = ZENSICAL_TABLE) -> Path:
    (folder / "docs").mkdir(exist_ok=True)
    site = "[project]\nsite_name = \"t\"\n" if header.startswith("[project.") else "site_name = \"t\"\n"
    (folder / "zensical.toml").write_text(site + _toml_table(header, options), encoding="utf-8")
    return folder / "zensical.toml"


def via_command_zensical_toml(folder: Path, options: dict, header: str = ZENSICAL_TABLE):
    """`oo-jwt check --config zensical.toml`: the extension's table of a Zensical site."""
    if _has_none(options):
        return None  # TOML has no null
    path = write_zensical_toml(folder, options, header)
    return _outcome(lambda: load_pyproject(path))


def _zensical_config():
    try:
        from zensical import config
    except ImportError:
        return None
    return config


def via_zensical(folder: Path, options: dict, file: str = "zensical.toml", header: str = ZENSICAL_TABLE):
    """What `zensical build` does with the extension's entry: its own reader of zensical.toml (or of
    mkdocs.yml: its !ENV, its INHERIT), then Python-Markdown's ``makeExtension(**options)``; paths
    from the config file's folder. None where Zensical is not installed (see the test below)."""
    config = _zensical_config()
    if config is None or (file == "zensical.toml" and _has_none(options)):
        return None
    if file == "zensical.toml":
        path = write_zensical_toml(folder, options, header)
    else:  # the extension's entry in mkdocs.yml, as via_extension writes it
        via_extension(folder, options, inherit=file == "INHERIT")
        path = folder / "ext.yml"

    from mkdocs_oo_jwt.extension import makeExtension

    def load():
        try:
            read = config.parse_zensical_config(str(path)) if path.suffix == ".toml" else config.parse_mkdocs_config(str(path))
        except config.ConfigurationError as exc:  # Zensical refuses the file itself
            raise ConfigError(f"zensical: {exc}") from None
        return makeExtension(**read["mdx_configs"]["mkdocs_oo_jwt.extension"]).settings(folder)

    return _outcome(load)


def test_zensical_is_installed_for_its_front_ends():
    """The table below runs Zensical's own readers of zensical.toml and mkdocs.yml where Zensical is
    installed (the test extra installs it); where it is not, those front ends are left out, said here."""
    if _zensical_config() is None:
        pytest.skip("zensical is not installed: its front ends are left out of the option table")


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
        return kind, value._replace(root=None)  # the config file's folder: the same file's folder here
    # a refusal names the file it read (zensical.toml holds the options of mkdocs.yml's place)
    return kind, value.replace("not an option in zensical.toml", f"not an option in {MKDOCS}")


# Every front end of a place: the same input gives the same outcome in each. The places' own
# files: pyproject.toml's [tool.oo-jwt]; a site's configuration (mkdocs.yml's plugin or extension
# entry, zensical.toml's extension table), read by the command, by MkDocs for the plugin and the
# extension, and by Zensical for the extension.
FRONT_ENDS = {
    PYPROJECT: {"pyproject": via_pyproject},
    MKDOCS: {
        "check --config mkdocs.yml": via_command_mkdocs,
        "plugin": via_plugin,
        "extension (MkDocs)": via_extension,
        "check --config zensical.toml": via_command_zensical_toml,
        "extension (Zensical, zensical.toml)": via_zensical,
        "extension (Zensical, mkdocs.yml)": lambda folder, options: via_zensical(folder, options, "mkdocs.yml"),
    },
}

# (input, the places it is written in: every front end of each)
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
    ({"statistics": True}, (PYPROJECT, MKDOCS, CLI)),
    ({"output_file": "report.json"}, (PYPROJECT, MKDOCS, CLI)),
    # panels: a build's rendering (mkdocs.yml, zensical.toml); the command renders no page
    ({"panels": True}, (PYPROJECT, MKDOCS)),
    ({"panels": "yes"}, (PYPROJECT, MKDOCS)),
    ({"panel": True}, (PYPROJECT, MKDOCS)),
    # baseline: everywhere, relative to the config file (on the command line, to the current folder)
    ({"baseline": ".oo-jwt-baseline.json"}, (PYPROJECT, MKDOCS, CLI)),
    ({"baseline": 3}, (PYPROJECT, MKDOCS, CLI)),
    ({"baseline": ""}, (PYPROJECT, MKDOCS, CLI)),
    ({"baseline": [".oo-jwt-baseline.json"]}, (PYPROJECT, MKDOCS)),
    ({"baselines": "b.json"}, (PYPROJECT, MKDOCS)),
    # overrides: a list of tables (pyproject's [[tool.oo-jwt.overrides]], a list in mkdocs.yml)
    ({"overrides": [{"paths": ["drafts/"], "fail_on": "never"},
                    {"paths": "old/**", "version": "7.1", "disable": "token-unpaired"}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["drafts/"], "fail_onn": "never"}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["drafts/"], "mode": "regenerate"}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"fail_on": "never"}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": []}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["x"], "version": 7.1}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["x"], "disable": ["no-such-rule"]}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["x"], "fail_on": "sometimes"}]}, (PYPROJECT, MKDOCS)),
    ({"overrides": {"paths": ["x"]}}, (PYPROJECT, MKDOCS)),
    ({"overrides": "drafts/"}, (PYPROJECT, MKDOCS)),
    ({"overrides": [{"paths": ["x"]}]}, (PYPROJECT, MKDOCS, CLI)),  # not a flag: said as such
]


def _one_place(options: dict, place: str) -> list[str]:
    """The options given that are options, but not of ``place``."""
    return [o.name for o in OPTIONS if o.name in options and place not in o.where]


@pytest.mark.parametrize("options, where", TABLE, ids=[json.dumps(o) for o, _ in TABLE])
def test_the_same_input_gives_the_same_settings_or_error_everywhere(options, where, tmp_path):
    by_place = {}
    for place in (PYPROJECT, MKDOCS):
        if place not in where:
            continue
        outcomes = {name: front(tmp_path, options) for name, front in FRONT_ENDS[place].items()}
        outcomes = {name: comparable(outcome, tmp_path) for name, outcome in outcomes.items() if outcome is not None}
        for name, outcome in outcomes.items():
            assert outcome[0] in ("settings", "error"), (name, outcome)
            if outcome[0] == "error":
                assert "\n" not in outcome[1] and "Traceback" not in outcome[1], (name, outcome)
        # every front end of a place: the same settings, or the same problem with the same option
        first = next(iter(outcomes.values()))
        assert all(v == first for v in outcomes.values()), (
            "front ends disagree:\n" + "\n".join(f"{k}: {v}" for k, v in outcomes.items()))
        refused = _one_place(options, place)
        if refused:  # an option of another place: the same words in every front end of this one
            assert first[0] == "error" and first[1].startswith(f"{refused[0]}: not an option in {place} (it is one in "), first
        by_place[place] = first
    if len(by_place) == 2 and not _one_place(options, PYPROJECT) and not _one_place(options, MKDOCS):
        assert by_place[PYPROJECT] == by_place[MKDOCS], by_place
    if CLI in where:
        cli = via_command_line(options)
        refused = _one_place(options, CLI)
        if refused:  # not a flag of the command
            assert cli is None, cli
            return
        cli_kind, cli_value = cli
        files = [o for place, o in by_place.items() if not _one_place(options, place)]
        for kind, value in files:
            assert cli_kind == kind, (cli, kind, value)
            if cli_kind == "error":  # the same problem, under the flag's name
                assert cli_value.split(": ", 1)[1] == value.split(": ", 1)[1]
            else:
                for field in ("fail_on", "version", "disable"):
                    assert getattr(cli_value, field) == getattr(value, field)
                assert (cli_value.baseline is None) == (value.baseline is None)
                if value.baseline is not None:  # the file's folder; the current folder on the command line
                    assert value.baseline == tmp_path / cli_value.baseline


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


@pytest.mark.parametrize("inherit", [False, True], ids=["mkdocs.yml", "INHERIT"])
def test_panels_baseline_and_overrides_through_env_tags_and_inherit(inherit, tmp_path, monkeypatch):
    """The options of this session read as a build reads them, in every front end of mkdocs.yml:
    ``!ENV`` (a variable set, one unset with its default) and a parent file's (``INHERIT:``)."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.extension import makeExtension
    from mkdocs_oo_jwt.plugin import OoJwtPlugin
    from mkdocs_oo_jwt.settings import Override

    monkeypatch.setenv("DOCS_BASELINE", "ci/baseline.json")
    monkeypatch.setenv("DOCS_PANELS", "true")
    monkeypatch.delenv("NOT_SET", raising=False)
    options = {"baseline": "!ENV [DOCS_BASELINE, null]", "panels": "!ENV [DOCS_PANELS, false]",
               "fail_on": "!ENV [NOT_SET, warning]",
               "overrides": [{"paths": ["drafts/"], "fail_on": "never", "disable": ["token-unpaired"]}]}
    outcomes = {
        "check --config mkdocs.yml": via_command_mkdocs(tmp_path, options, inherit),
        "plugin": via_plugin(tmp_path, options, inherit),
        "extension (MkDocs)": via_extension(tmp_path, options, inherit),
        "extension (Zensical)": via_zensical(tmp_path, options, "INHERIT" if inherit else "mkdocs.yml"),
    }
    outcomes = {k: v for k, v in outcomes.items() if v is not None}
    assert all(kind == "settings" for kind, _ in outcomes.values()), outcomes
    for name, (_, settings) in outcomes.items():
        assert settings.baseline == tmp_path / "ci" / "baseline.json", name
        assert settings.fail_on == "warning", name
        assert settings.overrides == (Override(("drafts/",), None, ("token-unpaired",), "never"),), name
    # panels is no part of the settings (the command renders no page): the plugin's and the extension's own
    path = write_mkdocs_yml(tmp_path, options, inherit)
    plugin = OoJwtPlugin()
    with open(path, "rb") as fd:
        section = next(item["oo-jwt"] for item in yaml_load(fd)["plugins"] if isinstance(item, dict))
    assert plugin.load_config(dict(section), str(path))[0] == []
    assert plugin.config["panels"] is True
    with open(path, "rb") as fd:
        assert makeExtension(**next(item["oo-jwt"] for item in yaml_load(fd)["plugins"])).values["panels"] is True
    monkeypatch.delenv("DOCS_PANELS")
    assert via_command_mkdocs(tmp_path, options, inherit)[0] == "settings"
    with open(path, "rb") as fd:
        assert makeExtension(**next(item["oo-jwt"] for item in yaml_load(fd)["plugins"])).values["panels"] is False


NESTED_ENV = """site_name: t
plugins:
  - oo-jwt:
      disable: [token-weak-secret, !ENV [DOCS_RULE, token-unpaired]]
      secret_env:
        inbox: [!ENV [DOCS_INBOX_NAME, null], OO_JWT_SECRET]
      overrides:
        - paths: [drafts/, !ENV [DOCS_DRAFTS, old/]]
          fail_on: !ENV [DOCS_DRAFTS_FAIL_ON, error]
"""


def test_an_env_tag_inside_a_list_or_a_table_reads_as_a_build_reads_it(tmp_path, monkeypatch):
    """``!ENV`` where MkDocs reads it in a build: also as a list's item and as a value in one of the
    ``overrides`` tables, not only as an option's whole value."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.settings import Override

    monkeypatch.setenv("DOCS_DRAFTS_FAIL_ON", "never")
    monkeypatch.setenv("DOCS_INBOX_NAME", "MY_INBOX_SECRET")
    monkeypatch.delenv("DOCS_RULE", raising=False)
    monkeypatch.delenv("DOCS_DRAFTS", raising=False)
    (tmp_path / "docs").mkdir()
    path = tmp_path / "mkdocs.yml"
    path.write_text(NESTED_ENV, encoding="utf-8")
    with open(path, "rb") as fd:
        section = yaml_load(fd)["plugins"][0]["oo-jwt"]
    from mkdocs_oo_jwt.extension import makeExtension
    from mkdocs_oo_jwt.plugin import OoJwtPlugin

    plugin = OoJwtPlugin()
    errors, _ = plugin.load_config(dict(section), str(path))
    outcomes = {
        "check --config mkdocs.yml": _outcome(lambda: load_mkdocs_yml(path)),
        "plugin": ("error", str(errors)) if errors else ("settings", plugin._settings),
        "extension (MkDocs)": _outcome(lambda: makeExtension(**section).settings(tmp_path)),
    }
    config = _zensical_config()
    if config is not None:  # the same options as the extension's entry, read by Zensical
        ext = tmp_path / "ext.yml"
        ext.write_text(NESTED_ENV.replace("plugins:\n  - oo-jwt:", "markdown_extensions:\n  - mkdocs_oo_jwt.extension:"),
                       encoding="utf-8")
        outcomes["extension (Zensical)"] = _outcome(lambda: makeExtension(
            **config.parse_mkdocs_config(str(ext))["mdx_configs"]["mkdocs_oo_jwt.extension"]).settings(tmp_path))
    for name, (kind, settings) in outcomes.items():
        assert kind == "settings", (name, settings)
        assert settings.disable == {"token-weak-secret", "token-unpaired"}, name
        assert settings.secret_env["inbox"] == ("MY_INBOX_SECRET", "OO_JWT_SECRET"), name
        assert settings.overrides == (Override(("drafts/", "old/"), None, (), "never"),), name


@pytest.mark.parametrize("header", [ZENSICAL_TABLE, '[markdown_extensions."mkdocs_oo_jwt.extension"]'],
                         ids=["[project]", "top level"])
def test_zensical_toml_reads_as_zensical_reads_it(header, tmp_path):
    """Zensical reads its options from [project], or from the whole file when it has no [project]
    table: `oo-jwt check --config zensical.toml` reads the same table in both."""
    options = {"fail_on": "warning", "overrides": [{"paths": ["drafts/"], "fail_on": "never"}]}
    command = via_command_zensical_toml(tmp_path, options, header)
    assert command[0] == "settings", command
    assert command[1].fail_on == "warning" and command[1].overrides[0].paths == ("drafts/",)
    zensical = via_zensical(tmp_path, options, header=header)
    if zensical is None:
        pytest.skip("zensical is not installed: compared with the command's reading only where it is")
    assert comparable(zensical, tmp_path) == comparable(command, tmp_path)


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


@pytest.mark.parametrize("ci", ["true", None], ids=["CI=true", "CI unset"])
def test_enabled_by_an_env_tag_as_mkdocs_documents_it(ci, tmp_path, monkeypatch):
    """``enabled: !ENV [CI, false]`` (MkDocs' own example for a plugin that runs in CI only) is
    MkDocs' option, read as a build reads it: no configuration error in the plugin or the command."""
    from mkdocs.utils.yaml import yaml_load

    from mkdocs_oo_jwt.plugin import OoJwtPlugin

    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    path = write_mkdocs_yml(tmp_path, {"enabled": "!ENV [CI, false]", "fail_on": "warning"})
    command = _outcome(lambda: load_mkdocs_yml(path))
    assert command[0] == "settings" and command[1].fail_on == "warning", command
    with open(path, "rb") as fd:
        section = yaml_load(fd)["plugins"][0]["oo-jwt"]
    section.pop("enabled")  # MkDocs' own option: it loads the plugin or not, and keeps the option
    plugin = OoJwtPlugin()
    assert plugin.load_config(dict(section), str(path))[0] == []
    assert plugin._settings == command[1]
