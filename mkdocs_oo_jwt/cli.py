"""The ``oo-jwt`` command: ``main(argv=None) -> int``.

Exit codes: 0 no error, 1 findings at or above --fail-on, 2 usage or configuration error or an
internal error (one line on stderr, never a traceback), 130 Ctrl-C, 143 SIGTERM. ``fix`` also exits 1 when it changed (or, with --diff, would change)
a file, and 2 when no secret is configured.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from pathlib import Path

# Only what every run needs is imported here; each command imports what it uses.

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


def _settings_options(command, *, walks: bool = True) -> None:
    """The options that make the settings of a run, derived from ``settings.OPTIONS`` (those the
    command line allows; the walk's only where a command walks folders)."""
    from .settings import CLI, OPTIONS, REPORT_OPTIONS

    command.add_argument("--config", metavar="FILE", help="pyproject.toml or mkdocs.yml to read settings from "
                         "(default: the nearest pyproject.toml with a [tool.oo-jwt] table)")
    for option in OPTIONS:
        if CLI not in option.where or option.name in REPORT_OPTIONS or (not walks and option.name in (*WALK_OPTIONS, "baseline")):
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


_OPTION_NAME = re.compile(r"--[a-z][a-z0-9-]{0,40}")


def _unechoed(message: str) -> str:
    """argparse's message, without the value of an argument it did not know: a token or a secret
    pasted where an option goes (``oo-jwt inspect -abc...``, a value that starts with "-") is
    named only as such, never shown; an option's name (``--fial-on``) is shown, without ``=value``."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    shown = []
    for argument in message[len(prefix):].split(" "):
        name = argument.split("=", 1)[0]
        shown.append(name if _OPTION_NAME.fullmatch(name) else "(a value starting with '-', not shown: give it after --)")
    return prefix + " ".join(dict.fromkeys(shown))


def _parser():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str):  # usage errors: one line, exit 2
            self.exit(2, f"oo-jwt: error: {_unechoed(message)}\n")

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
    _baseline_options(check)
    _report_options(check, add_ignore=True)

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
    _report_options(fix)

    explain = sub.add_parser(
        "explain",
        help="show why a page is clean or not: each example and token, its flow and the evidence for it",
        description="For every example and token of a page (or those at LINE): where it is, the flow it was "
        "given and the evidence that decided it (and the runner-up's), what each token signs, and its findings.",
    )
    explain.add_argument("target", metavar="PATH[:LINE]", help="a page, optionally with a line number")
    _settings_options(explain, walks=False)
    _inspect_options(sub)

    sub.add_parser("rules", help="list the rules with their ids, severities and docs")
    rule = sub.add_parser("rule", help="show one rule's documentation, with a failing and a passing example")
    rule.add_argument("rule_id", metavar="RULE", help="a rule id (`oo-jwt rules` lists them)")
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
        try:
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        except (OSError, ValueError):  # its file is closed: a write to it says so (``OutputLost``)
            pass


class OutputLost(Exception):
    """stdout cannot take what a command writes (a full disk, a closed stream): the output is lost."""


def _emit(stream, text: str) -> None:
    """Write some of a command's output and flush it: every write of a command to stdout (a
    report, a diff, fix's "fixed" lines, the rules, an explanation) goes through here. A reader
    that went away (``oo-jwt check | head -1``) is not a failure of the run: the rest of the
    output is dropped, the exit code still says what was found. Any other failure to write (a full
    disk, stdout closed) loses what the user asked for: ``OutputLost`` (exit 2, one line)."""
    if stream is None:  # stdout closed when the command started (``>&-``)
        raise OutputLost("it is closed")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _to_nowhere(stream)
    except OSError as exc:
        _to_nowhere(stream)
        raise OutputLost(exc.strerror or exc.__class__.__name__) from None


def _to_nowhere(stream) -> None:
    """What is still buffered for ``stream`` would fail again at exit ("Exception ignored ..."):
    it goes to nowhere instead."""
    try:
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
    except OutputLost as exc:  # the output is lost, not the run: said as --output-file says it
        return _stopped(exc, 2, f"oo-jwt: error: cannot write to stdout: {exc}")
    except SystemExit:  # argparse: --help, --version, a usage error (2)
        raise
    except BaseException as exc:  # noqa: BLE001 - also what escapes `except Exception` (a Rust panic)
        tb, where = exc.__traceback__, ""
        while tb is not None:  # where it was raised (file and line: to help a bug report)
            where, tb = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}", tb.tb_next
        return _stopped(exc, 2, f"oo-jwt: internal error: {exc.__class__.__name__}{where} (a bug: please report it); "
                        "the run did not finish")
    finally:
        standby = sys.modules.get("mkdocs_oo_jwt.run.standby")
        if standby is not None:  # a standby forked for a run that never adopted it
            standby.drop_standby_early()


def script() -> None:
    """The ``oo-jwt`` command as a process (its console script, ``python -m mkdocs_oo_jwt``):
    ``main``, then the process ends with its exit code without tearing the interpreter down.
    Freeing every module and object one by one (markdown-it, jsonschema, the cache of ten thousand
    pages) is a sixth of a warm run's time and changes nothing outside: what the run wrote is
    flushed first, and the handlers registered to run at exit still run. Where another thread is
    still running (none of the run's own: its children are processes, ended by then), the
    interpreter ends as usual, waiting for it."""
    import atexit

    from .run.forking import other_threads

    code = main()  # argparse's SystemExit (--help, a usage error) ends the process as usual
    if other_threads():
        sys.exit(code)
    getattr(atexit, "_run_exitfuncs", lambda: None)()  # what the interpreter runs before it frees everything
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a reader gone (a closed pipe): what was not written is dropped
            pass
    os._exit(code)


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
    if _warm_check_likely(argv):
        from .run.standby import standby_early

        standby_early()
    args = _parser().parse_args(argv)
    if args.command == "rules":
        from .catalog import RULES

        _emit(sys.stdout, "".join(f"{rule.id:24} {str(rule.severity):8} {rule.doc}\n" for rule in RULES.values()))
        return 0
    if args.command == "rule":
        return _rule(args.rule_id)
    if args.command == "explain":
        return _explain(args)
    if args.command == "inspect":
        return _inspect(args)
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
    if evidence is None:
        return None
    try:  # Zensical follows INHERIT its own way (it appends lists where MkDocs replaces them)
        as_zensical = read_mkdocs_yml(config, as_zensical=True)
    except ConfigError:
        return None
    if _names_extension(as_zensical.get("markdown_extensions"), EXTENSION):
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
        elif _reads_env(value):  # the whole value, or a list's item, an override's value
            left.append(key)
        elif isinstance(value, (str, int, float, list)):
            given[key] = value
    env = {role: names for role, names in env.items() if names}
    if env:
        given["secret_env"] = env
    return given, left


def _reads_env(value: object) -> bool:
    from .settings import FromEnv

    if isinstance(value, list):
        return any(_reads_env(item) for item in value)
    if isinstance(value, dict):
        return any(_reads_env(item) for item in value.values())
    return isinstance(value, FromEnv)


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

    def key(name) -> str:
        name = str(name)
        return name if name.isascii() and name.replace("-", "_").isidentifier() else json.dumps(name)

    def toml(value) -> str:  # JSON's strings, numbers, true and false are TOML's; its tables are not
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{key(k)} = {toml(v)}" for k, v in value.items() if v is not None) + " }"
        if isinstance(value, list):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        return json.dumps(value)

    given, _ = _given(options)
    return ", ".join(f"{k} = {toml(v)}" for k, v in given.items())


def _color(choice: str, stream) -> bool:
    """--color auto: on a terminal, unless NO_COLOR is set (no-color.org); FORCE_COLOR sets it anywhere."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (stream is not None and stream.isatty())


def _warm_check_likely(argv: list[str]) -> bool:
    """Is this a ``check`` that will likely find a cache to load, told from its arguments and a
    stat, before they are parsed (``standby.standby_early``: a checker then imports meanwhile)?
    A guess: a wrong one costs a fork, and the run adopts or ends that checker either way."""
    if argv[:1] != ["check"] or "--no-cache" in argv or "--add-ignore" in argv:
        return False
    from .run.places import CACHE_FILE, DEFAULT_CACHE

    folder = DEFAULT_CACHE
    for i, arg in enumerate(argv):
        if arg in ("--jobs", "--cache-dir") and i + 1 < len(argv):
            arg = f"{arg}={argv[i + 1]}"
        name, _, value = arg.partition("=")
        if name == "--jobs" and value.strip() == "1":
            return False
        if name == "--cache-dir":
            folder = value
    return os.path.isfile(os.path.join(folder, CACHE_FILE))


def _cache_folder(named: str | None) -> Path | None:
    """The cache folder of a run: the one named with --cache-dir, followed if it is a link (a
    tmpfs, on purpose); else the default, unless it is a link a repository may have committed
    (``cache.refused_link``: one warning line, and the run uses no cache)."""
    from pathlib import Path

    from .run.cache import refused_link
    from .run.places import DEFAULT_CACHE

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
    from .settings import ConfigError

    try:
        settings, paths = _settings_and_paths(args)
        options = _report_settings(args)
        baseline = _baseline(args, settings)  # a baseline that does not read stops the run before a page is written
        if options.add_ignore:
            _add_ignores(settings, paths, options)
        cache_dir = None if args.no_cache else _cache_folder(args.cache_dir)
        result = check_paths(paths, settings, cache_dir=cache_dir, jobs=args.jobs)
        if baseline is not None:
            _against_baseline(args, baseline, result, paths)
    except (ConfigError, FlowsError) as exc:
        print(f"oo-jwt: error: {exc}", file=sys.stderr)
        return 2
    if not _report(args, options, result, settings, sys.stdout):
        return 2
    return exit_code(result, settings.fail_on)


# ------------------------------------------------------------------ the baseline

def _baseline_options(check) -> None:
    """The flags that act on the baseline file (named by --baseline or the baseline option)."""
    group = check.add_mutually_exclusive_group()
    group.add_argument("--write-baseline", action="store_true",
                       help="write the baseline file from this run's findings (those of pages the run did not cover "
                       "are kept); exits 0")
    group.add_argument("--update-baseline", action="store_true",
                       help="remove the baseline entries no finding matches any more (never adds one), then report")
    check.add_argument("--show-baselined", action="store_true",
                       help="report the findings the baseline holds too, marked (baselined); they still do not fail")


def _baseline(args, settings):
    """The run's baseline (``--baseline`` or the ``baseline`` option), loaded; None without one. For
    --write-baseline a missing file is an empty baseline, and one that does not read is replaced."""
    from .settings import ConfigError

    writes = getattr(args, "write_baseline", False) or getattr(args, "update_baseline", False)
    if settings.baseline is None:
        if writes or getattr(args, "show_baselined", False):
            flag = "--write-baseline" if args.write_baseline else "--update-baseline" if args.update_baseline else "--show-baselined"
            raise ConfigError(f"{flag} needs a baseline file: --baseline FILE, or baseline = \"FILE\" in [tool.oo-jwt]")
        return None
    from .baseline import Baseline, BaselineError, load  # a run without a baseline never imports it
    if getattr(args, "write_baseline", False):
        if not os.path.lexists(settings.baseline):
            return Baseline(settings.baseline)
        try:
            return load(settings.baseline)
        except BaselineError:
            print(f"oo-jwt: warning: baseline {settings.baseline} does not read as one: written anew from this run",
                  file=sys.stderr)
            return Baseline(settings.baseline)
    return load(settings.baseline)


def _against_baseline(args, baseline, result, paths: list[str]) -> None:
    """Match the run against the baseline, after writing (--write-baseline) or shrinking
    (--update-baseline) it as asked, then report against the file as it is now; what was written
    is said on stderr (stdout is the report)."""
    from .baseline import Baseline, Gate, gate_result, save

    found = list(result.findings)
    gate = Gate(baseline)
    gate_result(result, gate, paths, show=args.show_baselined)
    if not (args.write_baseline or args.update_baseline):
        return
    if args.write_baseline:
        entries = gate.written(paths)
        save(baseline.file, entries)
        kept = len(entries) - len(gate.found)
        said = f"wrote {_entries(len(entries))} to {baseline.file}" + (
            f" ({kept} of pages this run did not check, kept)" if kept else "")
    else:
        stale, entries = result.stale, gate.ratcheted(paths)
        if stale:
            save(baseline.file, entries)
        said = (f"removed {_entries(stale)} that no finding matches any more from {baseline.file} ({len(entries)} left)"
                if stale else f"{baseline.file}: no baseline entry to remove")
    print(f"oo-jwt: {said}", file=sys.stderr)
    result.findings = found
    gate_result(result, Gate(Baseline(baseline.file, entries)), paths, show=args.show_baselined)


def _entries(n: int) -> str:
    return f"{n} baseline {'entry' if n == 1 else 'entries'}"


def _explain(args) -> int:
    from pathlib import Path

    from .engine import explain_page
    from .run.files import read_page
    from .explain import render
    from .flows import FlowsError, load_flows
    from .model import Finding
    from .settings import ConfigError, for_file, secrets_from_env

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
    explanation = explain_page(page, for_file(settings, path), flows, secrets)  # the page's own settings
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
    from .settings import ConfigError

    try:
        settings, paths = _settings_and_paths(args)
        options = _report_settings(args)
        baseline = _baseline(args, settings)  # what remains is gated as check gates it
        run = fix_paths(paths, settings, write=not args.diff, fill_placeholders=args.placeholders == "fill")
        if baseline is not None:
            from .baseline import Gate, gate_result

            gate_result(run.result, Gate(baseline), paths)
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
    if not _report(args, options, run.result, settings, report_stream):
        return 2
    changed = any(f.written for f in run.changed) if not args.diff else bool(run.changed)
    if changed or run.problems:
        return 1
    return exit_code(run.result, settings.fail_on)


# ------------------------------------------------------------------ inspect

def _inspect_options(sub) -> None:
    """``oo-jwt inspect [TOKEN | -]``: its flags (the settings it needs, derived from ``OPTIONS``)."""
    from .settings import OPTION

    inspect = sub.add_parser(
        "inspect",
        help="decode one token and say why it is (or is not) right for its flow",
        description="Decode a token (never failing: a broken one is described part by part), find its flow, "
        "verify its signature when its role's secret is in the environment, compare it with the config or body "
        "it should sign, and name the classic mistakes. Exit 0: right for its flow; 1: not; 2: usage error.",
    )
    inspect.add_argument("token", nargs="?", default="-", metavar="TOKEN",
                         help="the token (also as 'Bearer <jwt>'), or - (the default) to read it from stdin")
    inspect.add_argument("--flow", metavar="ID", help="the flow it is meant for (default: found from its payload)")
    inspect.add_argument("--against", metavar="FILE", help="the config or body it is meant to sign: JSON, or a JS "
                         "object literal (- for stdin)")
    inspect.add_argument("--transport", choices=("header", "body", "browser"),
                         help="where it is sent (default: a Bearer scheme says header; else the --against file's "
                         "form or the flow's only transport)")
    inspect.add_argument("--format", choices=("text", "json"), default="text")
    inspect.add_argument("--config", metavar="FILE", help="pyproject.toml or mkdocs.yml to read settings from "
                         "(secret_env, flows_dir, version)")
    for name in ("version", "flows_dir"):
        option = OPTION[name]
        inspect.add_argument(option.flag or "--" + name.replace("_", "-"), dest=name, metavar=option.metavar,
                             action="append" if option.repeat else "store", help=option.doc)


def _inspect(args) -> int:
    from .flows import FlowsError, load_flows
    from .inspection import UsageError, inspect, read_against, render_json, render_text
    from .settings import ConfigError, secrets_from_env, with_cli

    try:
        settings = with_cli(load_settings(args.config), {"version": args.version, "flows_dir": args.flows_dir})
        flows = load_flows(settings.flows_dirs)
        secrets = secrets_from_env(settings)
        if args.token == "-" and args.against == "-":
            raise UsageError("the token and --against cannot both come from stdin (-)")
        value = _read_input("-", settings.max_token_bytes + 1024) if args.token == "-" else args.token
        if not value.strip():
            raise UsageError("no token given: pass it as an argument or on stdin")
        against = None
        if args.against is not None:
            against = read_against(args.against, _read_input(args.against, settings.max_page_bytes), settings)
        result = inspect(value, settings, flows, secrets, args.flow, against, args.transport)
    except (ConfigError, FlowsError, UsageError) as exc:
        print(f"oo-jwt: error: {exc}", file=sys.stderr)
        return 2
    _emit(sys.stdout, render_json(result) if args.format == "json" else render_text(result))
    return 0 if result.ok else 1


def _read_input(name: str, limit: int) -> str:
    """A file's text (or stdin's, for "-"), at most ``limit`` bytes; UsageError in one line (the
    text itself is never quoted: it may be a secret)."""
    from .inspection import UsageError

    shown = "stdin" if name == "-" else name
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read(limit + 1).encode()
        else:
            with open(name, "rb") as fd:
                data = fd.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    if len(data) > limit:
        raise UsageError(f"{shown}: over {limit} bytes: not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{shown}: not UTF-8 text") from None



# ------------------------------------------------------------------ reports: where they go; oo-jwt rule; --add-ignore

def _report_options(command, *, add_ignore: bool = False) -> None:
    """The flags that say what becomes of a run's report (``settings.REPORT_OPTIONS``, declared
    with the other options); ``--add-ignore`` only where pages are checked (``check``)."""
    from .settings import OPTION, REPORT_OPTIONS

    for name in REPORT_OPTIONS:
        if name == "add_ignore" and not add_ignore:
            continue
        option = OPTION[name]
        flag = option.flag or "--" + name.replace("_", "-")
        if isinstance(option.default, bool):
            command.add_argument(flag, dest=name, action="store_true", default=None, help=option.doc)
        else:
            command.add_argument(flag, dest=name, metavar=option.metavar, help=option.doc)


def _report_settings(args):
    from .settings import REPORT_OPTIONS, report_options

    return report_options({name: getattr(args, name, None) for name in REPORT_OPTIONS})


def _top_folder() -> str:
    """The repository's top folder (the nearest folder up from here holding ``.git``), else this
    one: what SARIF's ``%SRCROOT%`` and GitLab's paths are relative to."""
    here = os.path.abspath(os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def _report(args, options, result, settings, stream) -> bool:
    """Write a run's report where it goes: to ``stream``, or (``--output-file``) to the file, whole
    or not at all, with the summary line on ``stream`` (unless --quiet); ``--statistics`` after
    the report (on stderr when stdout carries a document). False when the file cannot be written
    (said on stderr)."""
    from .report import REPORTERS
    from .report.statistics import render as statistics
    from .report.text import summary

    fmt = args.format
    given: dict = {}
    if fmt in ("text", "github"):
        given["quiet"] = options.quiet
    if fmt == "junit":
        given["fail_on"] = settings.fail_on
    if fmt in ("sarif", "junit", "gitlab"):
        given["root"], given["cwd"] = _top_folder(), os.path.abspath(os.getcwd())
    if options.output_file is None:
        _emit(stream, REPORTERS[fmt](result, color=fmt == "text" and _color(args.color, stream), **given))
        if options.statistics:
            _emit(stream if fmt == "text" else sys.stderr, statistics(result))
        return True
    problem = _write_whole(options.output_file, REPORTERS[fmt](result, color=False, **given))
    if problem is not None:
        print(f"oo-jwt: error: cannot write the report to {options.output_file}: {problem}", file=sys.stderr)
        return False
    if options.statistics:
        _emit(stream, statistics(result))
    if not options.quiet:
        _emit(stream, f"{summary(result)} (report in {options.output_file})\n")
    return True


def _write_whole(path, text: str) -> str | None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, synced, renamed
    over it (a CI step that reads the report never sees half of one). Through a link, the file it
    names is replaced and the link kept; a pipe or a device (``/dev/stdout``, a FIFO, a shell's
    ``>(...)``) is written into, as ``>`` would (renamed over, it would become a file of its own,
    and as root ``/dev/stdout`` would be gone). Why it failed, or None."""
    import stat
    import tempfile
    from pathlib import Path

    data = text.encode("utf-8", "backslashreplace")
    try:
        mode = os.stat(path).st_mode  # through links
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        try:
            with open(path, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            return exc.strerror or exc.__class__.__name__
        return None
    target = Path(os.path.realpath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a file the shell's > would make, not mkstemp's 0600
        os.replace(temporary, target)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            return exc.strerror or exc.__class__.__name__
        raise
    return None


def _rule(rule_id: str) -> int:
    """``oo-jwt rule ID``: the rule's severity and documentation, with a failing and a passing
    example; an unknown id is one line and exit 2."""
    import difflib

    from .catalog import EXAMPLE_WORDS, EXAMPLES, RULES

    rule = RULES.get(rule_id)
    if rule is None:
        started = [r for r in RULES if r.startswith(rule_id)]  # an id cut short: token-sig
        close = started[:1] if len(started) == 1 else difflib.get_close_matches(rule_id, list(RULES), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        print(f"oo-jwt: error: unknown rule {rule_id!r} ({hint}`oo-jwt rules` lists them)", file=sys.stderr)
        return 2
    parts = [f"{rule.id} ({rule.severity})\n\n{rule.doc}\n"]
    if rule.id in EXAMPLES:
        fails, passes = EXAMPLES[rule.id]
        indent = lambda text: "".join(f"    {line}" if line.strip() else line for line in text.splitlines(True))  # noqa: E731
        parts.append(f"\nFails:\n\n{indent(fails)}")
        parts.append(f"\nPasses:\n\n{indent(passes)}")
        if "eyJ" in fails + passes:
            parts.append("\n(The tokens are signed with the demo docs secret the README gives.)\n")
    elif rule.id in EXAMPLE_WORDS:
        fails, passes = EXAMPLE_WORDS[rule.id]
        parts.append(f"\nFails: {fails}\n\nPasses: {passes}\n")
    _emit(sys.stdout, "".join(parts))
    return 0


def _add_ignores(settings, paths: list[str], options) -> None:
    """``--add-ignore``: the directives are written before the check, and said on stderr (stdout
    is the report); a page that could not be given one is named there too."""
    from .run.ignoring import add_ignores

    run = add_ignores(paths, settings)
    for problem in run.problems:
        print(f"oo-jwt: warning: {problem}", file=sys.stderr)
    if not options.quiet:
        pages = len(run.added)
        print(f"oo-jwt: added {run.count} ignore directive{'s' if run.count != 1 else ''} to {pages} "
              f"page{'s' if pages != 1 else ''}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
