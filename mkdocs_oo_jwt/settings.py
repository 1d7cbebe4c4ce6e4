"""The one option surface. Every option is declared once in ``OPTIONS`` (name, doc, where it is
allowed, how its value is checked, the ``Settings`` field it sets, its command-line flag); the
pyproject reader, the mkdocs.yml reader (MkDocs' own YAML loader: ``!ENV`` and ``INHERIT:`` as in a
build), the command line and the MkDocs plugin's config are all derived from it, so the same input
gives the same settings or the same one-line error in every front end.

Secrets: settings name the environment variables that hold them; values are read from the
environment only (``secrets_from_env``, the one resolver) and never printed (``Secret`` hides its
value). In mkdocs.yml, ``secrets:`` values must come from ``!ENV``: a value that no environment
variable holds is a secret written in the file, a configuration error everywhere.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

from .catalog import RULES
from .flows import ROLES

DEFAULT_SECRET_ENV = "OO_JWT_SECRET"
FAIL_ON = ("error", "warning", "never")
MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """A configuration the tool cannot use: reported as one line, exit code 2."""


class OptionError(ConfigError):
    """One option's value (or name) the tool cannot use: "<origin>: <option>: <problem>"."""

    def __init__(self, origin: str, option: str, problem: str):
        super().__init__(f"{origin}: {option}: {problem}" if origin else f"{option}: {problem}")
        self.option = option
        self.problem = problem


class Secret:
    """A secret value that never shows itself in repr, str, logs or exceptions."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str):
        self._value = value
        self.source = source  # the environment variable it came from

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source}, hidden)"

    __str__ = __repr__

    def __reduce__(self):  # never pickled into a cache or a subprocess
        raise TypeError("a Secret cannot be pickled")


def default_secret_env(role: str) -> tuple[str, ...]:
    return (f"OO_JWT_SECRET_{role.upper()}", DEFAULT_SECRET_ENV)


class Override(NamedTuple):
    """Settings for the pages that ``paths`` match (gitignore-style globs, relative to the settings'
    ``root``, as the excludes): ``[[tool.oo-jwt.overrides]]``, or a plugin's ``overrides:`` list.
    ``disable`` is kept sorted: the cache keys the settings by their text."""

    paths: tuple[str, ...]
    version: str | None = None
    disable: tuple[str, ...] = ()
    fail_on: str | None = None


# every Settings() shares it: never changed in place (a reader copies it: ``_with_values``)
_DEFAULT_SECRET_ENV: Mapping[str, tuple[str, ...]] = {role: default_secret_env(role) for role in ROLES}


class Settings(NamedTuple):
    """A run's settings (a named tuple, as the records of ``model``: cheap to define at the start
    of every run; ``settings._replace(...)`` for a changed copy)."""

    version: str | None = None  # target docs version; None = latest
    flows_dirs: tuple[Path, ...] = ()
    disable: frozenset[str] = frozenset()
    fail_on: str = "error"
    secret_env: Mapping[str, tuple[str, ...]] = _DEFAULT_SECRET_ENV
    keep_claims: bool = False
    now: float | None = None  # seconds since the epoch; None = the wall clock
    max_page_bytes: int = 5_000_000
    max_token_bytes: int = 65_536
    max_json_depth: int = 200  # deeper JSON examples are a json-syntax finding
    max_samples_per_page: int = 1000  # examples and tokens; the rest of a page is page-partly-checked
    # the walk (oo-jwt check/fix over folders): gitignore-style globs, relative to ``root``
    exclude: tuple[str, ...] | None = None  # None: DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # exclude paths given on the command line too (pre-commit passes files)
    root: Path | None = None  # the folder of the config file the settings came from (None: the current one)
    overrides: tuple[Override, ...] = ()  # per-path settings, applied by ``for_file`` (the last match wins)
    # the baseline file (``baseline.py``): it filters a run's findings, never makes them, so it is
    # no part of the settings' text (the cache's key)
    baseline: Path | None = None

    def clock(self) -> float:
        return time.time() if self.now is None else self.now


def secrets_from_env(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Secret]:
    """role -> Secret, for every role whose environment variables hold a value."""
    env = os.environ if environ is None else environ
    out = {}
    for role, names in settings.secret_env.items():
        for name in names:
            value = env.get(name)
            if value:
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ConfigError(f"{name} is not valid UTF-8 text: set the secret as text") from None
                out[role] = Secret(value, name)
                break
    return out


LIMITS = ("max_page_bytes", "max_token_bytes", "max_json_depth", "max_samples_per_page")
MODES = ("verify", "regenerate")

PYPROJECT, MKDOCS, CLI = "pyproject.toml", "mkdocs.yml", "the command line"
# The configuration files each site generator looks for in the current folder, in its order, when
# its command names none with -f / --config-file (zensical/main.py; MkDocs' and ProperDocs'
# config/base.py): the extension names the file its options came from; the walk leaves out the
# build output (``site/``) beside any of them.
GENERATOR_CONFIGS = {
    "zensical": ("zensical.toml", "mkdocs.yml", "mkdocs.yaml"),
    "mkdocs": ("mkdocs.yml", "mkdocs.yaml"),
    "properdocs": ("properdocs.yml", "properdocs.yaml", "mkdocs.yml", "mkdocs.yaml"),
}
EVERYWHERE = frozenset({PYPROJECT, MKDOCS, CLI})


class Invalid(ValueError):
    """What is wrong with an option's value (the front end says which option, and where)."""


class Option(NamedTuple):
    name: str  # as written in pyproject.toml and mkdocs.yml (pyproject also takes it with dashes)
    doc: str
    where: frozenset[str]  # PYPROJECT, MKDOCS, CLI
    check: Callable[[Any], Any]  # the value as written -> as kept; raises Invalid
    default: Any = None  # as written (None: not set)
    flag: str | None = None  # the command-line flag ("--" + name with dashes, if CLI is allowed)
    metavar: str | None = None
    repeat: bool = False  # the flag may be given several times (values added up)


def _version(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid('expected a version such as "7.1" or "latest" (quote it: YAML reads 7.10 as 7.1)')
    from .flows import FlowsError, parse_version

    try:
        parse_version(str(value))
    except FlowsError as exc:
        raise Invalid(str(exc)) from None
    return str(value)


def _strings(what: str) -> Callable[[Any], tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
            raise Invalid(f"expected {what}")
        return tuple(items)

    return check


def _globs(value: Any) -> tuple[str, ...]:
    """gitignore-style globs, each one pathspec can read (a bad one is said where it is written)."""
    from pathspec import GitIgnoreSpec

    globs = _strings("a list of globs")(value)
    for glob in globs:
        try:
            GitIgnoreSpec.from_lines([glob])
        except Exception as exc:  # noqa: BLE001 - GitIgnorePatternError (a ValueError) or re.error
            raise Invalid(f"{glob!r} is not a gitignore-style glob ({exc})") from None
    return globs


def _rules(value: Any) -> frozenset[str]:
    names = _strings("a list of rule ids (see `oo-jwt rules`)")(value)
    rules = [r.strip() for item in names for r in item.split(",") if r.strip()]
    bad = [r for r in rules if r not in RULES]
    if bad:
        raise Invalid(f"unknown rule id(s): {', '.join(bad)} (see `oo-jwt rules`)")
    return frozenset(rules)


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise Invalid(f"expected one of {', '.join(choices)}, not {value!r}")
        return value

    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("expected true or false")
    return value


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("expected a positive whole number")
    return value


def _secret_env(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping) or any(role not in ROLES for role in value):
        raise Invalid(f"expected a table of roles ({', '.join(ROLES)}) to environment variable names")
    return {role: _strings("names of environment variables")(names) for role, names in value.items()}


class FromEnv:
    """A value mkdocs.yml gives with ``!ENV``: what MkDocs reads (``value``), and how (``names``: the
    variables tried in turn; ``default``: the list's last item, when it has more than one). Its
    repr never shows the value (it can be a secret)."""

    __slots__ = ("names", "value", "default")

    def __init__(self, names: tuple[str, ...], value: Any, default: Any):
        self.names, self.value, self.default = names, value, default

    def __repr__(self) -> str:
        return f"FromEnv({', '.join(self.names)})"


def _env_tag(loader, node) -> FromEnv:
    """MkDocs' ``!ENV`` (yaml_env_tag), remembering the variable names and the default."""
    import yaml

    names: tuple[str, ...] = ()
    default = None
    if isinstance(node, yaml.ScalarNode):
        names = (str(loader.construct_scalar(node)),)
    elif isinstance(node, yaml.SequenceNode):
        items = node.value
        if len(items) > 1:
            default = loader.construct_object(items[-1])
            items = items[:-1]
        names = tuple(str(loader.construct_scalar(item)) for item in items)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"expected a scalar or sequence node, but found {node.id}",
                                                node.start_mark)
    try:
        from yaml_env_tag import construct_env_tag  # what MkDocs, ProperDocs (and Zensical's copy) run
    except ImportError:  # neither MkDocs nor ProperDocs installed (a Zensical site): the same reading
        return FromEnv(names, _from_environment(loader, names, default), default)
    return FromEnv(names, construct_env_tag(loader, node), default)


def _from_environment(loader, names: tuple[str, ...], default: Any) -> Any:
    """yaml_env_tag's value of ``!ENV``: the first variable set, read as YAML reads a plain scalar
    ("007" is 7); else the list's default (its last item), else None."""
    import yaml

    for name in names:
        if name in os.environ:
            value = os.environ[name]
            tag = loader.resolve(yaml.ScalarNode, value, (True, False))
            return loader.construct_object(yaml.ScalarNode(tag, value))
    return default


def _secrets(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a table of roles ({', '.join(ROLES)}) to !ENV [VARIABLE, ..., null]")
    unknown = [str(role) for role in value if role not in ROLES]
    if unknown:
        raise Invalid(f"unknown role {unknown[0]!r} (the roles are: {', '.join(ROLES)})")
    for role, given in value.items():
        if isinstance(given, (Mapping, list, tuple, set)):
            raise Invalid(f"{role}: expected one value from the environment: {role}: {env_hint(role)}")
    return {
        role: given if isinstance(given, (Secret, FromEnv)) or given is None else Secret(str(given), "mkdocs.yml")
        for role, given in value.items()
    }


OVERRIDE_KEYS = ("paths", "version", "disable", "fail_on")


def _overrides(value: Any) -> tuple[Override, ...]:
    """A list of tables, each with ``paths`` (globs) and any of version, disable and fail_on,
    checked as those options are; a key that is not one of these is an error (a typo would
    otherwise leave the pages it meant with the run's settings, in silence)."""
    import difflib

    what = f"expected a list of tables, each with paths = [globs] and any of {', '.join(OVERRIDE_KEYS[1:])}"
    if not isinstance(value, (list, tuple)) or not all(isinstance(table, Mapping) for table in value):
        raise Invalid(what)
    out = []
    for number, table in enumerate(value, 1):
        for key in table:
            if key not in OVERRIDE_KEYS:
                close = difflib.get_close_matches(str(key), OVERRIDE_KEYS, n=1)
                hint = f"did you mean {close[0]}?" if close else f"an override takes {', '.join(OVERRIDE_KEYS)}"
                raise Invalid(f"entry {number}: {key}: unknown key ({hint})")
        if table.get("paths") is None:
            raise Invalid(f"entry {number}: paths: missing (the globs of the pages it applies to)")
        given = {key: v for key, v in table.items() if v is not None}
        checks = {"paths": _globs, "version": _version, "disable": _rules, "fail_on": _choice(FAIL_ON)}
        kept = {}
        for key, v in given.items():
            try:
                kept[key] = checks[key](v)
            except Invalid as exc:
                raise Invalid(f"entry {number}: {key}: {exc}") from None
        if not kept["paths"]:
            raise Invalid(f"entry {number}: paths: expected at least one glob")
        out.append(Override(kept["paths"], kept.get("version"), tuple(sorted(kept.get("disable", ()))),
                            kept.get("fail_on")))
    return tuple(out)


def _file_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("expected a file name")
    return value


OPTIONS: tuple[Option, ...] = (
    Option("version", "documented product version (default: latest, where the 7.1 rules apply)", EVERYWHERE,
           _version, flag="--target-version", metavar="X.Y"),
    Option("flows_dir", "folder(s) of extra or overriding flow schemas (relative to the config file)", EVERYWHERE,
           _strings("a folder or a list of folders"), metavar="DIR", repeat=True),
    Option("disable", "rule ids to turn off", EVERYWHERE, _rules, metavar="RULE[,RULE]", repeat=True),
    Option("fail_on", "lowest severity that fails the run: error, warning or never", EVERYWHERE,
           _choice(FAIL_ON), default="error", metavar="{error,warning,never}"),
    Option("keep_claims", "keep the old token's iat/exp/nbf when re-signing", frozenset({PYPROJECT, MKDOCS}), _flag,
           default=False),
    Option("secret_env", "names of the environment variables that hold each role's secret (never values)",
           frozenset({PYPROJECT, MKDOCS}), _secret_env),
    *(Option(name, f"a bound on the work one page can make (see README): {name}", frozenset({PYPROJECT, MKDOCS}),
             _positive, default=getattr(Settings(), name)) for name in LIMITS),
    Option("exclude", "gitignore-style globs of paths not to walk (replaces the defaults)", frozenset({PYPROJECT, CLI}),
           _globs, metavar="GLOB", repeat=True),
    Option("extend_exclude", "more globs of paths not to walk (added to exclude)", frozenset({PYPROJECT, CLI}),
           _globs, metavar="GLOB", repeat=True),
    Option("respect_gitignore", "skip what .gitignore files ignore", frozenset({PYPROJECT}), _flag, default=True),
    Option("force_exclude", "apply the excludes to paths given on the command line too (pre-commit)",
           frozenset({PYPROJECT, CLI}), _flag, default=False),
    Option("mode", "verify (the default): check only; regenerate: sign the tokens of the built pages",
           frozenset({MKDOCS}), _choice(MODES), default="verify"),
    Option("secrets", "each role's secret, from the environment: !ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null]",
           frozenset({MKDOCS}), _secrets),
    # a build's rendering (the plugin's and the Markdown extension's): the command renders no page
    Option("panels", "under each sample token of the built pages, a collapsed panel with its decoded header and "
           "payload and whether it signs its example (off by default)", frozenset({MKDOCS}), _flag, default=False),
    Option("baseline", "the baseline file: the findings it holds do not fail the run (relative to the config file; "
           "on the command line, to the current folder)", EVERYWHERE, _file_name, metavar="FILE"),
    Option("overrides", "per-path settings: a list of tables, each with paths (gitignore-style globs, relative to the "
           "config file) and any of version, disable, fail_on", frozenset({PYPROJECT, MKDOCS}), _overrides),
    # what the command does with a run's report (``report_options``): the command line's only
    *(Option(name, doc, frozenset({CLI}), check, default=default, metavar=metavar) for name, doc, check, default, metavar in (
        ("statistics", "after the report, how many findings of each rule (most first); on stderr when the report "
         "is not text", _flag, False, None),
        ("output_file", "write the report to FILE (whole or not at all) instead of stdout; the summary line still "
         "goes to stdout", _file_name, None, "FILE"),
        ("quiet", "only the findings: no notes and no summary line", _flag, False, None),
        ("add_ignore", "before checking, put an ignore directive above each block with an error or a warning "
         "(only those lines are added; a second run adds none)", _flag, False, None),
    )),
)
OPTION = {option.name: option for option in OPTIONS}


REPORT_OPTIONS = ("statistics", "output_file", "quiet", "add_ignore")


class ReportOptions(NamedTuple):
    """What the command does with a run's report (no part of the settings of a run: the cache
    never sees them)."""

    statistics: bool = False
    output_file: Path | None = None
    quiet: bool = False
    add_ignore: bool = False


def report_options(values: Mapping[str, Any]) -> ReportOptions:
    """The report options of the command line (``REPORT_OPTIONS``: name -> value or None), checked
    as every option is (OptionError names the flag)."""
    try:
        given = checked({k: v for k, v in values.items() if k in REPORT_OPTIONS and v is not None}, CLI, "")
    except OptionError as exc:
        raise OptionError("", "--" + exc.option.replace("_", "-"), exc.problem) from None
    output = given.get("output_file")
    return ReportOptions(given.get("statistics", False), Path(output) if output else None, given.get("quiet", False),
                         given.get("add_ignore", False))


def env_hint(role: str) -> str:
    return f"!ENV [OO_JWT_SECRET_{role.upper()}, OO_JWT_SECRET, null]"


def unknown_option(name: str, where: str, file: str | None = None) -> str:
    """The problem with an option that is not one here: an option of another place, or a typo
    (the same words in every front end). ``file``: the name of the file the option was read from,
    where it is not the place's own (a zensical.toml holds the options of mkdocs.yml)."""
    import difflib

    option = OPTION.get(str(name).replace("-", "_"))
    if option is not None:
        places = " and ".join(sorted(option.where - {CLI})) or "the command line"
        return f"not an option in {file or where} (it is one in {places})"
    close = difflib.get_close_matches(str(name).replace("-", "_"), list(OPTION), n=1)
    return f"unknown option (did you mean {close[0]}?)" if close else "unknown option (the options are in the README)"


def checked(values: Mapping[str, Any], where: str, origin: str, file: str | None = None) -> dict[str, Any]:
    """The options of one place, each checked: name -> value as kept. ConfigError names the first
    problem in one line: "<origin>: <option>: <problem>" (``file``: see ``unknown_option``)."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{origin}: expected a table of options")
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).replace("-", "_") if where == PYPROJECT else str(key)
        option = OPTION.get(name)
        if option is None or where not in option.where:
            raise OptionError(origin, str(key), unknown_option(key, where, file))
        given = value
        if name != "secrets":
            value = _as_built(value)
        if value is None:
            continue
        try:
            out[name] = option.check(value)
        except Invalid as exc:
            raise OptionError(origin, str(key), shown_problem(exc, value, _env_names(given))) from None
    return out


def shown_problem(problem: Invalid, value: Any, names: tuple[str, ...] = ()) -> str:
    """What is wrong with an option's value, said without the value when it came from the
    environment (``!ENV``, whose ``names`` are known here; or, where a generator resolved the tag
    before us, a text equal to an environment variable's): the message may quote it, and a value
    from the environment can be a secret."""
    if names or _holds_environment_text(value):
        read = f" !ENV reads from {', '.join(names)}" if names else " from the environment"
        return f"the value{read} is not valid here (not shown: a value from the environment can be a secret)"
    return str(problem)


def _holds_environment_text(value: Any) -> bool:
    """A text of ``value`` equal to an environment variable's of 8 characters or more (shorter
    ones, "0", "yes", "error", are everyone's values: a value as short is no secret worth the name)."""
    texts = {text for text in os.environ.values() if len(text) >= 8}
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    return any(_holds_environment_text(item) if isinstance(item, (Mapping, list, tuple, set, frozenset))
               else str(item) in texts for item in items)


def _env_names(value: Any) -> tuple[str, ...]:
    """The variables each ``!ENV`` in a value reads (the whole value, a list's item, a table's value)."""
    if isinstance(value, FromEnv):
        return value.names
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
    return tuple(dict.fromkeys(name for item in items for name in _env_names(item)))


def _as_built(value: Any) -> Any:
    """A value as a build reads it: each ``!ENV`` in it (the whole value, a list's item, a table's
    value) the value of its variable. ``secrets`` keeps its tags: they say which variables to read."""
    if isinstance(value, FromEnv):
        return value.value
    if isinstance(value, list):
        return [_as_built(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _as_built(item) for key, item in value.items()}
    return value


def settings_from(values: Mapping[str, Any], base: Path, origin: str, environ: Mapping[str, str] | None = None,
                  file: str = MKDOCS) -> Settings:
    """Settings from checked option values (``checked``), paths relative to ``base``. A ``secrets``
    table (mkdocs.yml) becomes the names of the variables that hold each value (see
    ``secrets_names``; ``environ`` only for values given from Python, without their tags; ``file``
    the name of the file they were read from, as a refusal names it)."""
    settings = Settings(root=base)
    fields_ = {}
    for name in ("version", "disable", "fail_on", "keep_claims", *LIMITS, "extend_exclude", "respect_gitignore",
                 "force_exclude"):
        if name in values:
            fields_[name] = values[name]
    if "exclude" in values:
        fields_["exclude"] = values["exclude"]
    if "flows_dir" in values:
        fields_["flows_dirs"] = _folders(values["flows_dir"], base, origin, "flows_dir")
    if "overrides" in values:
        fields_["overrides"] = values["overrides"]
    if "baseline" in values:
        fields_["baseline"] = base / values["baseline"]
    secret_env = dict(settings.secret_env)
    secret_env.update(values.get("secret_env", {}))
    if "secrets" in values:
        try:
            secret_env.update(secrets_names(values["secrets"], environ, file))
        except Invalid as exc:
            raise OptionError(origin, "secrets", str(exc)) from None
    fields_["secret_env"] = secret_env
    return settings._replace(**fields_)


def _folders(names: tuple[str, ...], base: Path, origin: str, option: str) -> tuple[Path, ...]:
    """The flows folders, each one there: a folder named but missing is an error (the flows a writer
    counts on would silently not load), which says the option can be left out (a block pasted
    from the README names ``flows``)."""
    folders = tuple((base / name).resolve() for name in names)
    missing = next((name for name, folder in zip(names, folders) if not folder.is_dir()), None)
    if missing is not None:
        relative = "the current folder" if option.startswith("--") else "the configuration file's folder"
        raise OptionError(origin, option, f"{missing}: no such folder (relative to {relative}); {option} is "
                          "optional: leave it out unless you add flow schemas of your own")
    return folders


def secrets_names(given: Mapping[str, Any], environ: Mapping[str, str] | None,
                  file: str = MKDOCS) -> dict[str, tuple[str, ...]]:
    """role -> the variables that hold a ``secrets`` entry's value, tried in turn (an ``!ENV`` tag's
    names; the value itself is read later, exactly as set, by ``secrets_from_env``), or () for a
    role given nothing. A value written in the file, or an ``!ENV`` list whose last item (its
    default) is not null, is Invalid: it names the role, never the value. With ``environ``, a value
    given without its tag (a config passed from Python, read by no file) is taken from the
    environment variable that holds it, as MkDocs reads variables ("007" is 7), if one does.
    ``file``: the name of the file the values were read from (a TOML file has no ``!ENV``: its
    way to a secret is ``secret_env``)."""
    out = {}
    for role, secret in given.items():
        if isinstance(secret, FromEnv):
            if secret.default is not None:
                raise Invalid(
                    f"{role}: the last item of an !ENV list is its default value, a secret written in {file}: "
                    f"end the list with null, {role}: {env_hint(role)}"
                )
            out[role] = secret.names
            continue
        if secret is None:
            out[role] = ()
            continue
        value = secret.reveal()
        name = next((n for n, v in sorted((environ or {}).items()) if v and _as_yaml_reads(v) == value), None)
        if name is None:
            if file.endswith(".toml"):
                raise Invalid(
                    f"{role}: a secret written in {file} (not the value of any environment variable): give it "
                    f"through the environment: leave secrets out ({' or '.join(default_secret_env(role))} is read), "
                    f'or name the variables that hold it, secret_env = {{ {role} = ["MY_{role.upper()}_SECRET"] }}'
                )
            raise Invalid(
                f"{role}: a secret written in {file} (not the value of any environment variable): give it "
                f"through the environment, {role}: {env_hint(role)} (the last item of an !ENV list is a default "
                "value: end the list with null)"
            )
        out[role] = (name,)
    return out


def _as_yaml_reads(text: str) -> str:
    """An environment value as MkDocs' ``!ENV`` hands it over (YAML's implicit types), as text."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        tag = loader.resolve(yaml.ScalarNode, text, (True, False))
        value = loader.construct_object(yaml.ScalarNode(tag, text))
    except Exception:  # noqa: BLE001 - not a YAML scalar: the text itself
        value = text
    finally:
        loader.dispose()
    return "" if value is None else str(value)


def with_cli(settings: Settings, values: Mapping[str, Any]) -> Settings:
    """Settings with the command line's options over them (flows_dir, disable and the globs add up)."""
    try:
        given = checked({k: v for k, v in values.items() if v is not None}, CLI, "")
    except OptionError as exc:
        option = OPTION[exc.option]
        raise OptionError("", option.flag or "--" + option.name.replace("_", "-"), exc.problem) from None
    fields_: dict[str, Any] = {}
    overrides = settings.overrides
    if "version" in given:  # the command line's word for every page: a per-path version gives way
        fields_["version"] = given["version"]
        overrides = tuple(o._replace(version=None) for o in overrides)
    if "fail_on" in given:  # so does a per-path fail_on
        fields_["fail_on"] = given["fail_on"]
        overrides = tuple(o._replace(fail_on=None) for o in overrides)
    if overrides != settings.overrides:
        fields_["overrides"] = overrides
    if "baseline" in given:
        fields_["baseline"] = Path(given["baseline"])  # relative to the current folder, and said as given
    if "force_exclude" in given:
        fields_["force_exclude"] = given["force_exclude"]
    if "flows_dir" in given:
        fields_["flows_dirs"] = settings.flows_dirs + _folders(given["flows_dir"], Path.cwd(), "", "--flows-dir")
    if "disable" in given:
        fields_["disable"] = settings.disable | given["disable"]
    if "exclude" in given:
        fields_["exclude"] = given["exclude"]
    if "extend_exclude" in given:
        fields_["extend_exclude"] = settings.extend_exclude + given["extend_exclude"]
    return settings._replace(**fields_)


# ------------------------------------------------------------------ per-path settings

def for_file(settings: Settings, file: str | os.PathLike | None) -> Settings:
    """The settings of one page: the run's, with every override whose ``paths`` match the page's
    path relative to ``root`` over them (version and fail_on: the last match wins; disable adds
    up). A page outside the root, or with no file (a text handed to the extension), gets the
    run's. Applying it twice gives the same settings."""
    if not settings.overrides or file is None:
        return settings
    relative = root_relative(settings, os.fspath(file))
    if relative is None:
        return settings
    version, fail_on, disable = settings.version, settings.fail_on, settings.disable
    matched = False
    for override in settings.overrides:
        if _matcher(override.paths).match_file(relative):
            matched = True
            version = override.version if override.version is not None else version
            fail_on = override.fail_on if override.fail_on is not None else fail_on
            disable = disable | frozenset(override.disable)
    return settings._replace(version=version, fail_on=fail_on, disable=disable) if matched else settings


def root_relative(settings: Settings, file: str) -> str | None:
    """``file``'s path from the settings' root, with forward slashes (None outside it), as the
    excludes are matched: as given, then with links resolved."""
    root = os.path.abspath(settings.root if settings.root is not None else os.curdir)
    path = os.path.abspath(file)
    for here, base in ((path, root), (path, os.path.realpath(root)), (os.path.realpath(path), os.path.realpath(root))):
        try:
            relative = os.path.relpath(here, base)
        except ValueError:  # another drive
            continue
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep) and relative != os.curdir:
            return relative.replace(os.sep, "/")
    return None


@functools.lru_cache(maxsize=64)
def _matcher(globs: tuple[str, ...]):
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(globs)


# ------------------------------------------------------------------ the files

def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.oo-jwt] table, from ``start`` up to the repository's
    root (the folder holding .git) or the file system's, as ruff finds its configuration."""
    folder = start.resolve()
    while True:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_section(candidate):
            return candidate
        if (folder / ".git").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def _has_section(path: Path) -> bool:
    """Does it hold a [tool.oo-jwt] table (not only a dependency on mkdocs-oo-jwt)? A file that
    cannot be read as TOML counts, so that the reader says what is wrong with it."""
    import tomllib

    try:
        data = path.read_bytes()
        if b"oo-jwt" not in data:
            return False
        tool = tomllib.loads(data.decode("utf-8")).get("tool")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return True
    return isinstance(tool, dict) and "oo-jwt" in tool


def load_pyproject(path: Path) -> Settings:
    """A pyproject.toml's [tool.oo-jwt] table; a zensical.toml's extension table (a file with a
    [project] table that lists Markdown extensions, as Zensical reads it)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    project = data.get("project")
    if path.name == "zensical.toml" or (isinstance(project, dict) and "markdown_extensions" in project):
        # as Zensical reads it: the [project] table, or the whole file when it has none
        table, where = (project, "project.") if "project" in data else (data, "")
        section = extension_entry(table.get("markdown_extensions") if isinstance(table, dict) else None)
        if section is None:
            raise ConfigError(f'{path}: no [project.markdown_extensions."{EXTENSION}"] table')
        origin = f'{path} [{where}markdown_extensions."{EXTENSION}"]'
        values = checked(section if isinstance(section, dict) else {}, MKDOCS, origin, path.name)
        return settings_from(values, path.parent, origin, file=path.name)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    section = tool.get("oo-jwt", {})
    origin = f"{path} [tool.oo-jwt]"
    return settings_from(checked(section, PYPROJECT, origin), path.parent, origin)


def read_mkdocs_yml(path: Path, *, as_zensical: bool = False) -> dict:
    """mkdocs.yml as a build reads it: MkDocs' own YAML loader (``!ENV`` read from the environment,
    ``INHERIT:`` followed and merged), except that Python tags are not run. ``as_zensical``: as
    ``zensical build`` reads it, whose ``INHERIT:`` appends the lists of the file to its parent's
    (MkDocs' replaces them): a ``markdown_extensions`` list of both files is both lists."""
    import yaml

    get_yaml_loader, yaml_load, ConfigurationError = _yaml_reader()
    if as_zensical:
        yaml_load = functools.partial(_yaml_load, merge=_appended)
        ConfigurationError = (ConfigurationError, _NoParent)
    # MkDocs' loader on PyYAML's safe one: !ENV and INHERIT as in a build, but a !!python/... tag
    # (which a build would run) is never run by a linter, here or in CI: it reads as nothing
    loader = get_yaml_loader(yaml.SafeLoader)
    loader.add_constructor("!ENV", _env_tag)  # as MkDocs reads it, with the names kept
    loader.add_constructor("!relative", lambda loader, node: None)  # a page's folder: not ours to read
    loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    try:
        with open(path, "rb") as fd:
            data = yaml_load(fd, loader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    except (ConfigurationError, yaml.YAMLError) as exc:
        mark = getattr(getattr(exc, "__context__", None), "problem_mark", None) or getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not a configuration MkDocs can read") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a configuration MkDocs can read")
    return data


class _NoParent(Exception):
    """An ``INHERIT:`` file that is not there (read without MkDocs)."""


def _yaml_reader():
    """(get_yaml_loader, yaml_load, the error they raise) of MkDocs, else of ProperDocs (its own
    copy: a ProperDocs site need not install MkDocs), else the same reading done here (a Zensical
    site: MkDocs is the optional extra ``mkdocs-oo-jwt[mkdocs]``)."""
    import importlib

    for package in ("mkdocs", "properdocs"):
        try:
            reader = importlib.import_module(f"{package}.utils.yaml")
            errors = importlib.import_module(f"{package}.exceptions")
        except ImportError:
            continue
        return reader.get_yaml_loader, reader.yaml_load, errors.ConfigurationError
    return _safe_loader, _yaml_load, _NoParent


def _safe_loader(base):
    return type("Loader", (base,), {})  # constructors added to it stay off PyYAML's own SafeLoader


def _yaml_load(source, loader, merge: Callable[[dict, dict], dict] | None = None) -> dict:
    """MkDocs' ``yaml_load``: the file, merged over the file its ``INHERIT:`` names (``merge``:
    MkDocs' by default, nested tables merged, anything else replaced), relative to it."""
    import yaml

    data = yaml.load(source, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    if data is None:
        return {}
    if isinstance(data, dict) and "INHERIT" in data:
        relative = str(data.pop("INHERIT"))
        parent = os.path.normpath(os.path.join(os.path.dirname(source.name), relative))
        if not os.path.exists(parent):
            raise _NoParent(parent)
        with open(parent, "rb") as fd:
            data = (merge or _merged)(_yaml_load(fd, loader, merge), data)
    return data


def _merged(base: dict, over: dict) -> dict:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merged(base[key], value)
        else:
            base[key] = value
    return base


def _appended(base: Any, over: Any) -> Any:
    """Zensical's merge of a file over its ``INHERIT:`` parent (deepmerge's ``always_merger``):
    tables merged key by key, lists appended, sets joined, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        for key, value in over.items():
            base[key] = _appended(base[key], value) if key in base else value
        return base
    if isinstance(base, list) and isinstance(over, list):
        return base + over
    if isinstance(base, (set, frozenset)) and isinstance(over, (set, frozenset)):
        return base | over
    return over


EXTENSION = "mkdocs_oo_jwt.extension"  # the Python-Markdown extension's name, as configs list it


def extension_entry(extensions: Any) -> dict | None:
    """The options of the oo-jwt Markdown extension in a ``markdown_extensions`` value (mkdocs.yml's
    list, a zensical.toml table; ``name:Class`` too), None if it is not there. A list that names
    it twice (a file's and its ``INHERIT:`` parent's, as Zensical joins them) gives the last
    entry's options, as MkDocs and Zensical configure it."""
    if isinstance(extensions, dict):
        items = list(extensions.items())
    elif isinstance(extensions, list):
        items = [pair for item in extensions for pair in (item.items() if isinstance(item, dict) else [(item, {})])]
    else:
        return None
    found = None
    for name, options in items:
        if str(name).split(":")[0] == EXTENSION:
            found = options if options is not None else {}
    return found


def _plugin_entry(data: dict, path: Path) -> Any:
    """The oo-jwt plugin's entry in a mkdocs.yml's plugins (``{}`` for a bare name), None if none."""
    plugins = data.get("plugins")
    if plugins is not None and not isinstance(plugins, (list, dict)):
        raise ConfigError(f"{path}: plugins must be a list")
    section: Any = None
    for item in plugins if isinstance(plugins, list) else []:
        if isinstance(item, dict) and "oo-jwt" in item:
            section = item["oo-jwt"] or {}
        elif item == "oo-jwt":
            section = {}
    if isinstance(plugins, dict) and "oo-jwt" in plugins:
        section = plugins["oo-jwt"] or {}
    return section


def plugin_section(data: dict, path: Path) -> dict:
    """The oo-jwt plugin's options in a mkdocs.yml, without ``enabled`` (MkDocs' own option); for a
    site that lists only the Markdown extension (a Zensical site), the extension's options."""
    section = _plugin_entry(data, path)
    if section is None:
        section = extension_entry(data.get("markdown_extensions"))
        if section is None:
            raise ConfigError(f"{path}: no oo-jwt plugin in its plugins list, nor {EXTENSION} in its markdown_extensions")
        if not isinstance(section, dict):
            raise ConfigError(f"{path} markdown_extensions.{EXTENSION}: expected a table of options")
        return dict(section)
    if not isinstance(section, dict):
        raise ConfigError(f"{path} plugins.oo-jwt: expected a table of options")
    section = dict(section)
    enabled = _as_built(section.pop("enabled", True))  # MkDocs' own example: enabled: !ENV [CI, false]
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path} plugins.oo-jwt: enabled: expected true or false")
    return section


def load_mkdocs_yml(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of a mkdocs.yml: its plugin's section, as MkDocs reads it; for a site that lists
    only the Markdown extension (a Zensical site), the extension's, as Zensical reads the file
    (its ``INHERIT:`` appends lists where MkDocs' replaces them: see ``read_mkdocs_yml``)."""
    data = read_mkdocs_yml(path)
    origin = f"{path} plugins.oo-jwt"
    if _plugin_entry(data, path) is None:
        data, origin = read_mkdocs_yml(path, as_zensical=True), f"{path} markdown_extensions.{EXTENSION}"
    section = plugin_section(data, path)
    return settings_from(checked(section, MKDOCS, origin, path.name), path.parent, origin, environ, path.name)


def markdown_extension_config() -> dict[str, list]:
    """A Python-Markdown extension's ``config`` ({name: [default, doc]}) for the options a site
    generator's config holds, as the MkDocs plugin's are: derived here, never written twice."""
    return {o.name: [o.default, o.doc] for o in OPTIONS if MKDOCS in o.where}
