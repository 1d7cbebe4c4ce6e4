"""The ``oo-jwt`` command: ``main(argv=None) -> int``.

Exit codes: 0 no error, 1 findings at or above --fail-on, 2 usage or configuration error or an
internal error (one line on stderr, never a traceback), 130 Ctrl-C, 143 SIGTERM. ``fix`` also exits 1 when it changed (or, with --diff, would change)
a file, and 2 when no secret is configured.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from pathlib import Path

# Only what every run needs is imported here; each command imports what it uses.

FORMATS = ("text", "json", "sarif", "github", "junit")


def _settings_options(command, *, walks: bool = True) -> None:
    """The options that make the settings of a run, derived from ``settings.OPTIONS`` (those the
    command line allows; the walk's only where a command walks folders)."""
    from .settings import CLI, OPTIONS

    command.add_argument("--config", metavar="FILE", help="pyproject.toml or mkdocs.yml to read settings from "
                         "(default: the nearest pyproject.toml with a [tool.oo-jwt] table)")
    for option in OPTIONS:
        if CLI not in option.where or (not walks and option.name in WALK_OPTIONS):
            continue
        flag = option.flag or "--" + option.name.replace("_", "-")
        if isinstance(option.default, bool):  # a switch: --force-exclude
            command.add_argument(flag, dest=option.name, action="store_true", default=None, help=option.doc)
        else:
            command.add_argument(flag, dest=option.name, action="append" if option.repeat else "store",
                                 metavar=option.metavar, help=option.doc)


WALK_OPTIONS = ("exclude", "extend_exclude", "force_exclude")


def _common_options(command, report: str | None = None) -> None:
    """The options `check` and `fix` share."""
    command.add_argument("--format", choices=FORMATS, default="text", help=report)
    _settings_options(command)
    command.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                         help="colour the text report: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)")


def _parser():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str):  # usage errors: one line, exit 2
            self.exit(2, f"oo-jwt: error: {message}\n")

    parser = _Parser(prog="oo-jwt", description="Lint the JSON examples and sample JWTs of API docs.")
    parser.add_argument("--version", action="version", version=f"oo-jwt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check pages and report findings")
    check.add_argument("paths", nargs="*", metavar="PATH", help="pages or folders (default: docs/)")
    _common_options(check)
    check.add_argument("--cache-dir", metavar="DIR", help="where unchanged pages' findings are kept, followed if it is a "
                       "symbolic link (default: .oo-jwt-cache, not used if it is a symbolic link)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("--jobs", type=int, metavar="N", help="processes to check pages with (default: one per core)")

    fix = sub.add_parser(
        "fix",
        help="re-sign stale sample tokens in place, then report what remains",
        description="Put a token signed over its example in place of every stale sample token and <oo-jwt> "
        "placeholder (only the token's characters change), then report the findings that remain. "
        "Needs OO_JWT_SECRET (or OO_JWT_SECRET_INBOX/_OUTBOX/_BROWSER) in the environment.",
    )
    fix.add_argument("paths", nargs="*", metavar="PATH", help="pages or folders (default: docs/)")
    fix.add_argument("--diff", action="store_true", help="print a unified diff on stdout and write nothing (the report goes to stderr)")
    fix.add_argument("--placeholders", choices=("fill", "keep"), default="fill",
                     help="fill (the default): sign a token in place of each <oo-jwt> placeholder; keep: leave them "
                     "for the build to sign (the oo-jwt-fix pre-commit hook keeps them; the last one given counts)")
    _common_options(fix, report="format of the report of what remains")

    explain = sub.add_parser(
        "explain",
        help="show why a page is clean or not: each example and token, its flow and the evidence for it",
        description="For every example and token of a page (or those at LINE): where it is, the flow it was "
        "given and the evidence that decided it (and the runner-up's), what each token signs, and its findings.",
    )
    explain.add_argument("target", metavar="PATH[:LINE]", help="a page, optionally with a line number")
    _settings_options(explain, walks=False)

    sub.add_parser("rules", help="list the rules with their ids, severities and docs")
    return parser


def load_settings(config: str | None):
    """The settings from ``config`` (a pyproject.toml or mkdocs.yml), else from the nearest
    pyproject.toml with a [tool.oo-jwt] table (this folder, then up to the repository's root),
    else the defaults."""
    from pathlib import Path

    from .settings import ConfigError, Settings, find_pyproject, load_mkdocs_yml, load_pyproject

    if config:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"{config}: config file not found")
        return load_mkdocs_yml(path) if os.path.splitext(config)[1] in (".yml", ".yaml") else load_pyproject(path)
    found = find_pyproject(Path.cwd())
    return load_pyproject(found) if found is not None else Settings()


def _output_streams() -> None:
    """Make stdout and stderr write what their encoding cannot carry as backslash escapes
    (``\\u043a``) instead of raising UnicodeEncodeError: a report must survive a cp1252 or ASCII
    stdout (a Windows runner redirecting to a file, ``PYTHONIOENCODING=ascii:strict``) whatever a
    message quotes. The reporters already escape a file name's undecodable bytes (``\\xff``)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # None: no stream at all (pythonw)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _emit(stream, text: str) -> None:
    """Write some of a command's output and flush it: every write of a command to stdout (a
    report, a diff, fix's "fixed" lines, the rules, an explanation) goes through here. A reader
    that went away (``oo-jwt check | head -1``) is not a failure of the run: the rest of the
    output is dropped, the exit code still says what was found."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        try:  # what is still buffered would fail again at exit ("Exception ignored ..."): to nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError):  # not a file (a test's capture): nothing is flushed at exit
            pass


def _refuses_secret(argv: list[str]) -> bool:
    return any(a == "--secret" or a.startswith("--secret=") for a in argv)


def main(argv: list[str] | None = None) -> int:
    """Run a command; however it ends, its exit code says how, and 1 only ever means findings:
    Ctrl-C 130 and SIGTERM 143 (128 + the signal, as a shell reports a process a signal ended),
    after the run's processes are stopped; anything unexpected (a bug) 2, as a usage or
    configuration error: the run did not finish, it says nothing about the pages. Each is one line
    on stderr, never a traceback (nor the exception's text: it may quote a page or a secret)."""
    from .run.forking import Terminated, terminate_as_exception

    try:
        with terminate_as_exception():
            return _command(argv)
    except (KeyboardInterrupt, Terminated) as exc:
        code, what = (130, "interrupted") if isinstance(exc, KeyboardInterrupt) else (143, "terminated (SIGTERM)")
        return _stopped(exc, code, f"oo-jwt: {what}: stopped, no report")
    except SystemExit:  # argparse: --help, --version, a usage error (2)
        raise
    except BaseException as exc:  # noqa: BLE001 - also what escapes `except Exception` (a Rust panic)
        tb, where = exc.__traceback__, ""
        while tb is not None:  # where it was raised (file and line: to help a bug report)
            where, tb = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}", tb.tb_next
        return _stopped(exc, 2, f"oo-jwt: internal error: {exc.__class__.__name__}{where} (a bug: please report it); "
                        "the run did not finish")


def _stopped(exc: BaseException, code: int, line: str) -> int:
    """Say why the run stopped, then let go of its frames now: the run's ``finally`` blocks (the
    pipeline's: its looker killed, its pool shut down, pending pages cancelled) run here, where
    another Ctrl-C ends the process quietly (SIGINT's default action) instead of in a traceback."""
    import signal

    try:
        print(line, file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr went away: the exit code still says it
        pass
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:  # not the main thread
        previous = None
    try:
        for _ in range(100):  # the chain too: an exception raised while handling another keeps both
            if exc is None:
                break
            exc.__traceback__, exc = None, exc.__context__  # type: ignore[assignment]
    except BaseException:  # noqa: BLE001 - a second signal while the run's children stop
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return code


def _command(argv: list[str] | None) -> int:
    _output_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    if _refuses_secret(argv):  # before argparse, which would echo the value in an error message
        print(
            "oo-jwt: error: secrets are not accepted on the command line (they land in shell history and "
            "process lists): set OO_JWT_SECRET or OO_JWT_SECRET_INBOX/_OUTBOX/_BROWSER in the environment",
            file=sys.stderr,
        )
        return 2
    args = _parser().parse_args(argv)
    if args.command == "rules":
        from .catalog import RULES

        _emit(sys.stdout, "".join(f"{rule.id:24} {str(rule.severity):8} {rule.doc}\n" for rule in RULES.values()))
        return 0
    if args.command == "explain":
        return _explain(args)
    if args.command not in ("check", "fix"):
        _parser().print_help(sys.stderr)
        return 2
    return _fix(args) if args.command == "fix" else _check(args)


def _settings_and_paths(args):
    """The settings of a run (config file, then the command line) and its paths; ConfigError/FlowsError."""
    from pathlib import Path

    from .settings import CLI, OPTIONS, ConfigError, with_cli

    settings = with_cli(load_settings(args.config), {o.name: getattr(args, o.name, None) for o in OPTIONS if CLI in o.where})
    if args.config and os.path.splitext(args.config)[1] in (".yml", ".yaml"):
        unchecked = zensical_warning(Path(args.config))
        if unchecked is not None:
            print(f"oo-jwt: warning: {unchecked}", file=sys.stderr)
    paths = args.paths or ["docs"]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ConfigError(f"{missing[0]}: no such file or folder")
    return settings, paths


# ------------------------------------------------------------------ a site Zensical builds

# Which evidence says that Zensical builds a site (checked by `--config mkdocs.yml` only):
#   - a zensical.toml beside mkdocs.yml: `zensical build` reads it first (then mkdocs.yml, then
#     mkdocs.yaml), so its markdown_extensions are the ones that run;
#   - else Zensical installed where the command can see it (its package importable by this Python,
#     or a `zensical` command on PATH, as in a pre-commit hook's own environment): MkDocs may be
#     installed too (trying Zensical beside MkDocs is what Material's banner suggests), and the
#     advice is harmless under MkDocs (the plugin checks alone, once, when both are listed).
# Zensical drops every plugin it does not know without a word and runs the Python-Markdown
# extensions of the file it reads: without the extension there, its builds check nothing and fill
# no placeholder. A warning, not a failure: this command is the gate, and it did check the pages.


def zensical_installed() -> str | None:
    """How Zensical is seen to be installed (``None``: it is not), without importing it."""
    import importlib.util
    import shutil

    try:
        if importlib.util.find_spec("zensical") is not None:
            return "its package is importable here"
    except (ImportError, ValueError):  # a broken install: as not there
        pass
    return "a zensical command is on PATH" if shutil.which("zensical") else None


def zensical_warning(config: Path) -> str | None:
    """What to tell a user whose site, configured by ``config`` (a mkdocs.yml that names oo-jwt),
    Zensical would build without running oo-jwt (see above): one line saying what to add where;
    ``None`` when Zensical is not seen or runs the extension."""
    from .settings import ConfigError, plugin_section, read_mkdocs_yml
    from .settings import EXTENSION

    try:
        data = read_mkdocs_yml(config)
        options = plugin_section(data, config) if _names_plugin(data) else {}
    except ConfigError:
        return None
    toml = config.with_name("zensical.toml")
    if toml.is_file():
        project = _read_toml(toml)
        if project is None or _names_extension(project.get("markdown_extensions"), EXTENSION):
            return None  # a zensical.toml Zensical cannot read fails its build loudly on its own
        table = f'[project.markdown_extensions."{EXTENSION}"]'
        given = _toml_options(options)
        return (f"zensical build reads {toml} (it comes before {config.name}), which names no {EXTENSION}, and "
                f"Zensical drops the oo-jwt plugin: its builds would check no page and fill no <oo-jwt> "
                f"placeholder; add {table} to {toml}" + (f" with {given}" if given else "")
                + _left_out(_given(options)[1]))
    evidence = zensical_installed()
    if evidence is None or _names_extension(data.get("markdown_extensions"), EXTENSION):
        return None
    given = _yaml_options(options)
    return (f"{config} names the oo-jwt plugin but not the {EXTENSION} Markdown extension, and Zensical is "
            f"installed ({evidence}): Zensical drops the plugin, so `zensical build` would check no page and fill "
            f'no <oo-jwt> placeholder; add "- {EXTENSION}{": " + given if given else ""}" under markdown_extensions: '
            f"in {config}{_left_out(_given(options)[1])} (MkDocs then still checks each page once, with the plugin)")


def _names_plugin(data: dict) -> bool:
    plugins = data.get("plugins")
    items = plugins if isinstance(plugins, (list, dict)) else []
    return any(item == "oo-jwt" or (isinstance(item, dict) and "oo-jwt" in item) for item in items)


def _names_extension(extensions: object, name: str) -> bool:
    """Does a ``markdown_extensions`` value (mkdocs.yml's list, a zensical.toml table) name ``name``
    (also as ``name:Class``)?"""
    if isinstance(extensions, dict):
        keys = list(extensions)
    elif isinstance(extensions, list):
        keys = [k for item in extensions for k in (item if isinstance(item, dict) else [item])]
    else:
        return False
    return any(str(key).split(":")[0] == name for key in keys)


def _read_toml(path: Path) -> dict | None:
    """zensical.toml's project table, as Zensical reads it (``[project]``, or the whole file)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    project = data.get("project", data)
    return project if isinstance(project, dict) else None


def _given(options: dict) -> tuple[dict, list[str]]:
    """The plugin's options to repeat for the extension, and the names of those that cannot be.
    A secret is never repeated: the extension reads it from the environment, so the variables the
    plugin reads a role's secret from (``secrets: {role: !ENV [NAME, ...]}``, ``secret_env``)
    become the extension's ``secret_env`` (names, never values: without them the extension would
    find no secret and check no signature). Another value mkdocs.yml takes from the environment
    (``!ENV``) is named, not repeated (the extension's options are not read with ``!ENV``)."""
    from .settings import FromEnv

    given: dict = {}
    env: dict[str, list[str]] = {}
    left: list[str] = []
    for key, value in options.items():
        if key in ("secrets", "secret_env") and isinstance(value, dict):
            for role, named in value.items():
                names = named.names if isinstance(named, FromEnv) else named if key == "secret_env" else ()
                names = [names] if isinstance(names, str) else list(names or ())
                env.setdefault(str(role), [])
                env[str(role)] += [n for n in names if isinstance(n, str) and n not in env[str(role)]]
        elif isinstance(value, FromEnv):
            left.append(key)
        elif isinstance(value, (str, int, float, list)):
            given[key] = value
    env = {role: names for role, names in env.items() if names}
    if env:
        given["secret_env"] = env
    return given, left


def _left_out(left: list[str]) -> str:
    return (f" (and set {', '.join(left)} for it as the plugin's are set: a value mkdocs.yml reads with !ENV is not "
            "repeated here)") if left else ""


def _yaml_options(options: dict) -> str:
    import yaml

    given, left = _given(options)
    try:
        text = yaml.safe_dump(given, default_flow_style=True, sort_keys=False, width=1 << 30).strip() if given else ""
    except yaml.YAMLError:
        text = ""
    return text


def _toml_options(options: dict) -> str:
    import json

    given, _ = _given(options)
    return ", ".join(f"{k} = {json.dumps(v)}" for k, v in given.items())


def _color(choice: str, stream) -> bool:
    """--color auto: on a terminal, unless NO_COLOR is set (no-color.org); FORCE_COLOR sets it anywhere."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or stream.isatty()


def _cache_folder(named: str | None) -> Path | None:
    """The cache folder of a run: the one named with --cache-dir, followed if it is a link (a
    tmpfs, on purpose); else the default, unless it is a link a repository may have committed
    (``cache.refused_link``: one warning line, and the run uses no cache)."""
    from pathlib import Path

    from .run.cache import refused_link
    from .run.checking import DEFAULT_CACHE

    if named is not None:
        return Path(named)
    refused = refused_link(Path(DEFAULT_CACHE))
    if refused is not None:
        print(f"oo-jwt: warning: {refused}", file=sys.stderr)
        return None
    return Path(DEFAULT_CACHE)


def _check(args) -> int:
    from .run.checking import check_paths, exit_code
    from .flows import FlowsError
    from .report import REPORTERS
    from .settings import ConfigError

    try:
        settings, paths = _settings_and_paths(args)
        cache_dir = None if args.no_cache else _cache_folder(args.cache_dir)
        result = check_paths(paths, settings, cache_dir=cache_dir, jobs=args.jobs)
    except (ConfigError, FlowsError) as exc:
        print(f"oo-jwt: error: {exc}", file=sys.stderr)
        return 2
    color = args.format == "text" and _color(args.color, sys.stdout)
    _emit(sys.stdout, REPORTERS[args.format](result, color=color))
    return exit_code(result, settings.fail_on)


def _explain(args) -> int:
    from pathlib import Path

    from .engine import explain_page
    from .run.files import read_page
    from .explain import render
    from .flows import FlowsError, load_flows
    from .model import Finding
    from .settings import ConfigError, secrets_from_env

    path, line = _path_and_line(args.target)
    args.paths = [path]
    try:
        settings, _ = _settings_and_paths(args)
        secrets = secrets_from_env(settings)
        flows = load_flows(settings.flows_dirs)
    except (ConfigError, FlowsError) as exc:
        print(f"oo-jwt: error: {exc}", file=sys.stderr)
        return 2
    if Path(path).is_dir():
        print(f"oo-jwt: error: {path}: explain reads one page, not a folder", file=sys.stderr)
        return 2
    page = read_page(Path(path), path, settings)
    if isinstance(page, Finding):
        print(f"{path}:{page.location.line}:{page.location.column}: {page.message}", file=sys.stderr)
        return 1
    explanation = explain_page(page, settings, flows, secrets)
    _emit(sys.stdout, render(explanation, line))
    return 1 if line is not None and not explanation.samples_at(line) else 0


def _path_and_line(target: str) -> tuple[str, int | None]:
    """``docs/a.md:42`` -> ("docs/a.md", 42); a path that exists as given is taken whole."""
    from pathlib import Path

    head, sep, tail = target.rpartition(":")
    if sep and tail.isdigit() and head and not Path(target).exists():
        return head, int(tail)
    return target, None


def _fix(args) -> int:
    from .run.checking import exit_code
    from .run.fixer import NoSecret, fix_paths
    from .flows import FlowsError
    from .report import REPORTERS
    from .settings import ConfigError

    try:
        settings, paths = _settings_and_paths(args)
        run = fix_paths(paths, settings, write=not args.diff, fill_placeholders=args.placeholders == "fill")
    except (ConfigError, FlowsError, NoSecret) as exc:
        print(f"oo-jwt: error: {exc}", file=sys.stderr)
        return 2
    # stdout carries the report, or with --diff the diff alone (so it can be piped to a patch);
    # the "fixed" lines go with a text report and to stderr otherwise, so JSON stays one object.
    report_stream = sys.stderr if args.diff else sys.stdout
    lines_stream = sys.stdout if args.format == "text" and not args.diff else sys.stderr
    if args.diff:
        _emit(sys.stdout, "".join(f.diff() for f in run.changed))
    lines = []
    for done in run.changed:
        if done.written or args.diff:  # a file not written is reported among the notices
            noun = "token" if done.count == 1 else "tokens"
            lines.append(f"{'fixed' if done.written else 'would fix'} {done.shown}: {done.count} {noun}\n")
    _emit(lines_stream, "".join(lines))
    color = args.format == "text" and _color(args.color, report_stream)
    _emit(report_stream, REPORTERS[args.format](run.result, color=color))
    changed = any(f.written for f in run.changed) if not args.diff else bool(run.changed)
    if changed or run.problems:
        return 1
    return exit_code(run.result, settings.fail_on)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
