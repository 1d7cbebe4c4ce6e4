"""The one option surface: built from ``[tool.oo-jwt]`` in pyproject.toml, an mkdocs.yml plugin
section, or the command line. Settings name the environment variables that hold secrets; secret
values are read from the environment only and are never printed (``Secret`` hides its value).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .catalog import RULES
from .flows import ROLES

DEFAULT_SECRET_ENV = "OO_JWT_SECRET"
FAIL_ON = ("error", "warning", "never")
MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """A configuration the tool cannot use: reported as one line, exit code 2."""


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


@dataclass(frozen=True)
class Settings:
    version: str | None = None  # target docs version; None = latest
    flows_dirs: tuple[Path, ...] = ()
    disable: frozenset[str] = frozenset()
    fail_on: str = "error"
    secret_env: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {role: default_secret_env(role) for role in ROLES}
    )
    keep_claims: bool = False
    now: float | None = None  # seconds since the epoch; None = the wall clock
    max_page_bytes: int = 5_000_000
    max_token_bytes: int = 65_536
    max_json_depth: int = 200  # deeper JSON examples are a json-syntax finding
    max_samples_per_page: int = 1000  # examples and tokens; the rest of a page is page-partly-checked

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


def from_mapping(data: Mapping[str, Any], base: Path, origin: str) -> Settings:
    """Settings from a ``[tool.oo-jwt]`` table or an mkdocs.yml plugin section."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: must be a table of options")
    _check_types(data, origin)
    try:
        return _from_mapping(data, base, origin)
    except (TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{origin}: an option has a value of the wrong type") from None


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


_TYPES = {  # option -> (check, what it must be)
    "version": (lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool), "a version such as \"7.1\""),
    "flows_dir": (_strings, "a folder or a list of folders"),
    "flows_dirs": (_strings, "a list of folders"),
    "disable": (_strings, "a list of rule ids"),
    "fail_on": (lambda v: isinstance(v, str), "error, warning or never"),
    "keep_claims": (lambda v: isinstance(v, bool), "true or false"),
    "secret_env": (
        lambda v: isinstance(v, Mapping) and all(_strings(n) for n in v.values()),
        "a table of roles to environment variable names",
    ),
}


def _check_types(data: Mapping[str, Any], origin: str) -> None:
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in _TYPES and value is not None and not _TYPES[name][0](value):
            raise ConfigError(f"{origin}: {name} must be {_TYPES[name][1]}")


def _from_mapping(data: Mapping[str, Any], base: Path, origin: str) -> Settings:
    known = {f.name for f in fields(Settings)} | {"flows_dir", "secrets", "mode", "enabled"}
    known |= {name.replace("_", "-") for name in known}
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise ConfigError(f"{origin}: unknown option(s): {', '.join(unknown)}")
    get = lambda *names: next((data[n] for n in names if n in data), None)  # noqa: E731
    settings = Settings()
    version = get("version")
    if version is not None:
        from .flows import FlowsError, parse_version

        try:
            parse_version(str(version))
        except FlowsError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
        settings = replace(settings, version=str(version))
    for name in LIMITS:
        value = data.get(name, data.get(name.replace("_", "-")))
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{origin}: {name} must be a positive whole number")
            settings = replace(settings, **{name: value})
    flows_dir = get("flows_dir", "flows-dir", "flows_dirs")
    if flows_dir:
        dirs = [flows_dir] if isinstance(flows_dir, str) else list(flows_dir)
        settings = replace(settings, flows_dirs=tuple((base / d).resolve() for d in dirs))
    disable = get("disable")
    if disable:
        settings = replace(settings, disable=parse_rules(disable, origin))
    fail_on = get("fail_on", "fail-on")
    if fail_on is not None:
        settings = replace(settings, fail_on=parse_fail_on(str(fail_on), origin))
    keep = get("keep_claims", "keep-claims")
    if keep is not None:
        settings = replace(settings, keep_claims=bool(keep))
    secret_env = get("secret_env", "secret-env")
    if secret_env is not None:
        if not isinstance(secret_env, Mapping) or any(r not in ROLES for r in secret_env):
            raise ConfigError(f"{origin}: secret_env maps roles ({', '.join(ROLES)}) to environment variable names")
        merged = dict(settings.secret_env)
        for role, names in secret_env.items():
            merged[role] = (names,) if isinstance(names, str) else tuple(names)
        settings = replace(settings, secret_env=merged)
    return settings


def parse_rules(value: Any, origin: str) -> frozenset[str]:
    rules = [value] if isinstance(value, str) else list(value)
    rules = [r.strip() for item in rules for r in str(item).split(",") if r.strip()]
    bad = [r for r in rules if r not in RULES]
    if bad:
        raise ConfigError(f"{origin}: unknown rule id(s): {', '.join(bad)} (see `oo-jwt rules`)")
    return frozenset(rules)


def parse_fail_on(value: str, origin: str) -> str:
    if value not in FAIL_ON:
        raise ConfigError(f"{origin}: fail_on must be one of {', '.join(FAIL_ON)}, not {value!r}")
    return value


def load_pyproject(path: Path) -> Settings:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    section = tool.get("oo-jwt", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.oo-jwt] must be a table")
    return from_mapping(section, path.parent, f"{path} [tool.oo-jwt]")


@dataclass(frozen=True)
class EnvRef:
    """An ``!ENV`` tag as written in mkdocs.yml: the variable names, and the default value (MkDocs
    reads a list's last item as a default value, not as a name: hence ``!ENV [A, B, null]``)."""

    names: tuple[str, ...]
    default: Any = None


def mkdocs_yaml_loader():
    """A YAML loader that reads mkdocs.yml like MkDocs does, but keeps ``!ENV`` tags as written
    (and ignores ``!relative`` and ``!!python/...`` tags: nothing is imported or resolved)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def env(loader, node):
        if isinstance(node, yaml.ScalarNode):
            return EnvRef((str(loader.construct_scalar(node)),))
        if isinstance(node, yaml.SequenceNode):
            items = node.value
            default = loader.construct_object(items[-1], deep=True) if len(items) > 1 else None
            names = items[:-1] if len(items) > 1 else items
            return EnvRef(tuple(str(loader.construct_scalar(n)) for n in names), default)
        raise yaml.constructor.ConstructorError(None, None, "!ENV expects a name or a list", node.start_mark)

    Loader.add_constructor("!ENV", env)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return Loader


def load_mkdocs_yml(path: Path) -> Settings:
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=mkdocs_yaml_loader())  # noqa: S506 - SafeLoader
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
    plugins = data.get("plugins") if isinstance(data, dict) else None
    if plugins is not None and not isinstance(plugins, (list, dict)):
        raise ConfigError(f"{path}: plugins must be a list")
    section: Any = None
    for item in plugins or []:
        if isinstance(item, dict) and "oo-jwt" in item:
            section = item["oo-jwt"] or {}
        elif item == "oo-jwt":
            section = {}
    if isinstance(plugins, dict) and "oo-jwt" in plugins:
        section = plugins["oo-jwt"] or {}
    if section is None:
        raise ConfigError(f"{path}: no oo-jwt plugin in its plugins list")
    settings = from_mapping(section, path.parent, f"{path} plugins.oo-jwt")
    secrets = section.get("secrets")
    if isinstance(secrets, Mapping):
        merged = dict(settings.secret_env)
        for role, value in secrets.items():
            if role not in ROLES:
                raise ConfigError(f"{path}: plugins.oo-jwt.secrets: unknown role {role!r}")
            if isinstance(value, EnvRef) and value.default is None:
                merged[role] = value.names
            elif isinstance(value, EnvRef):  # !ENV [NAME, default]: the default is a literal value
                raise ConfigError(
                    f"{path}: plugins.oo-jwt.secrets.{role}: the last item of an !ENV list is a default "
                    f"value, written in the file: end the list with null, as in !ENV [OO_JWT_SECRET_{role.upper()}, OO_JWT_SECRET, null]"
                )
            elif value:
                raise ConfigError(
                    f"{path}: plugins.oo-jwt.secrets.{role} is a literal value: "
                    f"give it through the environment with !ENV [OO_JWT_SECRET_{role.upper()}, OO_JWT_SECRET]"
                )
        settings = replace(settings, secret_env=merged)
    return settings
