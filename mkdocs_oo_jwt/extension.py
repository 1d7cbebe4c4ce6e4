"""The Python-Markdown extension: the plugin's checks for any generator that runs Python-Markdown
extensions, above all Zensical, which drops every ``plugins:`` entry it does not know without a word.

```yaml
markdown_extensions:
  - mkdocs_oo_jwt.extension:
      mode: regenerate            # or verify (the default): check only
      fail_on: error              # the options of the MkDocs plugin, the same declarations and checks
```

Each page is checked as Python-Markdown converts it, before anything renders it (a preprocessor that
runs first): findings are logged (``logging``, under ``mkdocs.*`` so that MkDocs' --strict counts
them), and a page whose findings reach ``fail_on`` ends the build with an exception whose message is
one line naming the page and the line (Zensical's --strict does not fail on a logged warning; an
exception fails any build). In ``mode: regenerate`` placeholders and stale tokens are replaced by
freshly signed tokens in the Markdown handed on (never in the file). When a generator's process
ends, one summary line, the plugin's (Python-Markdown has no end-of-build hook; see ``_counted``).

What a generator tells an extension about the page: Python-Markdown gives only the text
(``Markdown.convert(text)``), front matter already removed by the generator. Zensical registers its
``ContextPreprocessor`` on the same Markdown with ``page.path`` (relative to ``docs_dir``) and its
``config`` (``root_dir``, ``docs_dir``); MkDocs and ProperDocs register their own tree processors
before converting, one of which holds the page's ``file`` (``abs_src_path``, ``src_uri``) and the
``config``. Where the source file is known and the text handed over is the file's body as it is,
the file is checked whole (front matter included: its ``oo_jwt:`` defaults count) and lines are the
file's. Otherwise the text itself is checked, named by its first heading and the SHA-256 of the text,
and its lines are counted from the start of the page body.

Under MkDocs and ProperDocs the plugin is the better front end (it knows every page's file and the
end of the build); a site listing both is checked by the plugin alone (see ``plugin.py``).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from .settings import MKDOCS, ConfigError, OptionError, checked, markdown_extension_config, secrets_from_env, settings_from, unknown_option
from .settings import for_file
from .settings import EXTENSION, GENERATOR_CONFIGS
from .site import (Tally, fails, finding_text, findings_of, log_level, needed_roles, no_secret_message, normalise,
                   regenerated, roles_without_secret_message, spot, summary_line, unfilled_message, unfilled_spots)

log = logging.getLogger("mkdocs.extensions.oo_jwt")  # under mkdocs.*: MkDocs' strict mode counts its warnings
ORIGIN = f"markdown_extensions.{EXTENSION}"  # where the options are, when no generator says from which file
# Before Python-Markdown's normalize_whitespace (30) and pymdownx.snippets (32): the text as the
# generator handed it over, which is the source file's body when nothing changed it
PRIORITY = 40
PANELS_PRIORITY = 5  # after raw_html (30), amp_substitute (20) and unescape (10): the page's final HTML
CONVERTED_PRIORITY = 0  # the last postprocessor: the page's conversion has ended


class BuildFailed(Exception):
    """Ends the build: one line naming the page and the line (never a secret)."""


@functools.lru_cache(maxsize=None)
def _failure_type(base: type) -> type:
    return type("BuildFailed", (BuildFailed, base), {})


def failure(message: str) -> Exception:
    """The exception that ends the build. Under MkDocs and ProperDocs it is also their PluginError,
    which they print as one line (no traceback); other generators print what they print."""
    errors = sys.modules.get("mkdocs.exceptions") or sys.modules.get("properdocs.exceptions")
    base = getattr(errors, "PluginError", None)
    return _failure_type(base)(message) if isinstance(base, type) else BuildFailed(message)


# --------------------------------------------------------------------------------------------
# What the user reads: a failure in one line, and the notices and the summary even where the
# generator sets up no logging (Zensical)
# --------------------------------------------------------------------------------------------

GENERATORS = ("zensical", "mkdocs", "properdocs")


def generator() -> str | None:
    """The site generator whose command this process is (``zensical build``, ``python -m mkdocs
    serve``...); None in any other program (a script, a test run)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = spec.name.split(".")[0] if spec is not None and spec.name else Path(sys.argv[0] if sys.argv else "").stem
    return name if name in GENERATORS else None


def ending(exc: BaseException) -> BaseException:
    """``exc``, to end the build as its one line. Zensical wraps an extension's exception in a
    RuntimeError of its own, formats the page's traceback into its message at once (then renders
    the pages left) and prints it with its own traceback when the process ends; both read
    ``sys.tracebacklimit``, and at 0 print the exception's line alone. So, in Zensical's process
    only: the limit is 0 from here until this extension runs again (``_limit_as_it_was``: another
    extension's error on a page rendered later shows its frames), and again when the process's
    last error, Zensical's, is printed, if it is this one (``_print_ours_in_one_line``)."""
    if generator() == "zensical":
        _LIMIT.setdefault("before", getattr(sys, "tracebacklimit", _UNSET))
        sys.tracebacklimit = 0
        _OURS.add(str(exc))
        if sys.excepthook is not _print_ours_in_one_line:
            _LIMIT["hook"] = sys.excepthook
            sys.excepthook = _print_ours_in_one_line
    return exc.with_traceback(None)


_UNSET = object()
_LIMIT: dict = {}  # "before": sys.tracebacklimit before ``ending`` set it; "hook": the excepthook before ours
_OURS: set[str] = set()  # the messages of the failures raised in this process


def _limit_as_it_was() -> None:
    """The process went on after a failure of ours (Zensical renders the pages left): the limit
    back as it was, so that no other code's traceback loses its frames."""
    before = _LIMIT.pop("before", None)
    if before is _UNSET:
        if hasattr(sys, "tracebacklimit"):
            del sys.tracebacklimit
    elif before is not None:
        sys.tracebacklimit = before


def _print_ours_in_one_line(kind, value, tb) -> None:
    """The process's last error (Zensical's RuntimeError, which quotes the page's), in one line if
    it is ours; any other as the hook before would print it."""
    try:
        ours = any(message in str(value) for message in _OURS)
    except Exception:  # noqa: BLE001 - an exception whose str() fails: not ours
        ours = False
    if ours:
        sys.tracebacklimit = 0
    _LIMIT.get("hook", sys.__excepthook__)(kind, value, tb)




def config_file() -> str | None:
    """The configuration file the generator of this process reads, as its command found it (its
    ``-f``/``--config-file`` argument, else the first of its file names in the current folder), so
    that a refusal names the file the user wrote the options in (zensical.toml, mkdocs.yml); None
    in any other program (a script gives the extension its options itself)."""
    name = generator()
    if name is None:
        return None
    args = sys.argv[1:]
    for at, arg in enumerate(args):
        if arg in ("-f", "--config-file") and at + 1 < len(args):
            return args[at + 1]
        if arg.startswith("--config-file="):
            return arg.split("=", 1)[1]
        if arg.startswith("-f") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]
    return next((f for f in GENERATOR_CONFIGS[name] if os.path.isfile(f)), None)


@dataclass(frozen=True)
class Options:
    """Where the extension's options were written, as its messages name it: the file's name (the
    place of ``settings.unknown_option``), the options' table or entry in it (``origin``), and
    the way to its ``secrets`` (the plugin's words name mkdocs.yml's plugins section)."""

    file: str = MKDOCS
    origin: str = ORIGIN
    table: str = ORIGIN  # where a secret_env or secrets option would go


def options_place() -> Options:
    """The extension's ``Options`` in this process (see ``config_file``)."""
    path = config_file()
    if path is None:
        return Options()
    name = os.path.basename(path)
    if not name.endswith(".toml"):
        return Options(name, f"{path} {ORIGIN}", f"{path} {ORIGIN}")
    table = f'[{"project." if _has_project_table(path) else ""}markdown_extensions."{EXTENSION}"]'
    return Options(name, f"{path} {table}", f"{table} of {path}")


@functools.lru_cache(maxsize=8)
def _has_project_table(path: str) -> bool:
    """Does the TOML file hold a [project] table (Zensical reads the extension's table in it)?"""
    import tomllib

    try:
        with open(path, "rb") as fd:
            return "project" in tomllib.load(fd)
    except (OSError, ValueError, RecursionError):
        return True  # Zensical's own error says what is wrong with the file


def refuse(exc: BaseException) -> NoReturn:
    """Raise ``exc``, an option the extension refuses, as one line: under Zensical by ``ending``;
    under MkDocs and ProperDocs, whose "Failed to load extension" message lists the frames of the
    failing extension up to the first that has no source line, from such a frame (so the list is
    empty, and nothing of the process is changed: ``mkdocs serve`` goes on, and loads the user's
    other extensions again at its next rebuild). In another program, with its frames."""
    if generator() in ("mkdocs", "properdocs"):
        exec(_RAISE_WITHOUT_SOURCE, {"exc": exc.with_traceback(None)})  # noqa: S102 - a constant
    raise ending(exc)


_RAISE_WITHOUT_SOURCE = compile("raise exc from None", "<oo-jwt: an option refused>", "exec")


def _reporting() -> None:
    """Where no logging handler would show the extension's lines (Zensical's command sets up none:
    Python's last resort shows warnings only), a handler of its own on stderr shows them, INFO
    included: the notices (signatures not checked, a short secret), findings below ``fail_on``,
    the summary. Where the generator has handlers (MkDocs), its own levels and format rule; MkDocs
    has taken its handler away when the process ends, but its level (``-q``: errors only) stays."""
    if log.hasHandlers():
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))  # as the last resort shows warnings
    log.addHandler(handler)
    leveled = log
    while leveled.level == logging.NOTSET and leveled.parent is not None:
        leveled = leveled.parent
    if leveled is logging.root:  # no generator set a level: Python's default would hide INFO
        log.setLevel(logging.INFO)


_TALLIES: dict[str, Tally] = {}  # page -> what its last check counted (a server converts pages again)
_RUN = {"regenerate": False, "summary": False}  # the mode of the pages checked; the summary registered


def _counted(page: str, tally: Tally, regenerate: bool) -> None:
    """Keep what a page's check counted for the summary, said once when the process ends: Python-
    Markdown tells an extension nothing of a build's end, and a generator's build process
    (``zensical build``, ``mkdocs build``) ends with its build. Registered at the first page
    checked, so a process whose extension never checked a page (an option refused, a failed
    import) says none; and only in a generator's process (another program converting Markdown
    has its own end)."""
    _TALLIES[page] = tally
    _RUN["regenerate"] = regenerate
    if not _RUN["summary"] and generator() is not None:
        _RUN["summary"] = True
        atexit.register(_summary)


def _summary() -> None:
    """The plugin's summary line, over the last check of each page this process converted."""
    _reporting()
    total = Tally()
    for tally in _TALLIES.values():
        total.add(tally)
    line = summary_line(total, _RUN["regenerate"])
    if generator() == "zensical":
        line += "; pages Zensical took from its cache are not counted (zensical build --clean renders every page)"
    log.info(f"oo-jwt: {line}")


class OoJwtExtension(Extension):
    """The options of the MkDocs plugin (``settings.markdown_extension_config``), checked as the
    plugin checks them: an unknown option, or a value the plugin refuses, is the same error."""

    def __init__(self, **kwargs: Any):
        _limit_as_it_was()  # a generator builds the extension for each page: the first of ours to run
        self.config = markdown_extension_config()
        self.place = options_place()
        self._given: dict[str, Any] = {}
        try:
            super().__init__(**kwargs)  # setConfigs: each option through setConfig below
            self.values = checked(self._given, MKDOCS, self.place.origin, self.place.file)
        except OptionError as exc:  # "<origin>: <option>: <problem>", without the frames of the checks
            refused = exc
        else:
            return
        refuse(refused)

    def setConfig(self, key: str, value: Any) -> None:
        """Keep the value as written: Python-Markdown's own setConfig would read a list given to an
        option whose default is None as True."""
        if key not in self.config:
            raise OptionError(self.place.origin, str(key), unknown_option(key, MKDOCS, self.place.file))
        self._given[key] = value

    def settings(self, base: Path):
        """The settings, with ``flows_dir`` relative to ``base`` (the generator's config folder):
        the plugin's reading of options given from Python (``secrets`` values are those of the
        environment variables that hold them)."""
        return settings_from(self.values, base, self.place.origin, os.environ, self.place.file)

    @property
    def mode(self) -> str:
        return self.values.get("mode", "verify")

    def extendMarkdown(self, md: Markdown) -> None:
        check = _CheckPage(md, self)
        md.preprocessors.register(check, "oo_jwt", PRIORITY)
        md.postprocessors.register(_Converted(md), "oo_jwt_converted", CONVERTED_PRIORITY)
        if self.values.get("panels"):
            from .panels import PanelStash

            check.stash = PanelStash()
            # last, on the page's HTML: after Python-Markdown put back its raw HTML and entities
            md.postprocessors.register(_FillPanels(md, check.stash), "oo_jwt_panels", PANELS_PRIORITY)


def makeExtension(**kwargs: Any) -> OoJwtExtension:  # noqa: N802 - Python-Markdown's entry point name
    return OoJwtExtension(**kwargs)


# --------------------------------------------------------------------------------------------
# The page being converted
# --------------------------------------------------------------------------------------------

@dataclass
class Source:
    """Where the text being converted comes from, as the generator tells it (all None: it does not)."""

    file: str | None = None  # the source file
    shown: str | None = None  # its path as reported (relative to docs_dir)
    base: Path | None = None  # the generator's config folder (flows_dir is relative to it)
    config: Any = None  # the generator's configuration object (one per build under MkDocs)
    zensical: bool = False  # Zensical registered it (a server's rebuild keeps its configuration)


def source_of(md: Markdown) -> Source:
    """What the generator registered on this Markdown instance about the page (duck-typed: nothing
    is imported from a generator)."""
    for processor in md.preprocessors:  # Zensical's ContextPreprocessor: page.path, config
        page, config = getattr(processor, "page", None), getattr(processor, "config", None)
        path = getattr(page, "path", None)
        if isinstance(path, str) and path and isinstance(config, dict) and config.get("root_dir"):
            root = Path(str(config["root_dir"]))
            return Source(str(root / str(config.get("docs_dir") or "docs") / path), path, root, config, True)
    for processor in md.treeprocessors:  # MkDocs' and ProperDocs' tree processors: file, config
        file = getattr(processor, "file", None)
        shown = getattr(file, "src_uri", None)
        if isinstance(shown, str) and shown:
            config = getattr(processor, "config", None)
            config_file = config.get("config_file_path") if hasattr(config, "get") else None
            abs_src = getattr(file, "abs_src_path", None)
            return Source(abs_src if isinstance(abs_src, str) else None, shown,
                          Path(config_file).parent if isinstance(config_file, str) else None, config)
    return Source()


def body_line(source: str, body: str) -> int | None:
    """The 0-based line of ``source`` at which ``body`` starts, if ``body`` is the rest of the
    source as it is (the generator removed only the front matter); None if it is not."""
    text, rest = normalise(source).rstrip(), body.rstrip()
    if not rest or not text.endswith(rest):
        return None
    start = len(text) - len(rest)
    if start and text[start - 1] != "\n":
        return None
    return text.count("\n", 0, start)


def body_label(body: str) -> str:
    """A page named without a path: its first heading and the SHA-256 of the text handed over."""
    digest = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    heading = next((m.group(1).strip() for m in re.finditer(r"(?m)^#{1,6}[ \t]+(.+?)[ \t#]*$", body)), None)
    if heading is None:
        return f"page (body sha256:{digest})"
    if len(heading) > 60:
        heading = heading[:57] + "..."
    return f'page "{heading}" (body sha256:{digest})'


_FLOWS: dict = {}  # (flows_dirs, their schemas' stamps) -> the registry: loaded once, not once per page
# What this build has said already: each run notice once (a short secret), and each role whose
# tokens went unsigned once, named when a page first needs it. Said again at each build, as the
# plugin says them: a server (``mkdocs serve``, ``zensical serve``) builds again and again in one
# process, and each build's output is read on its own (see ``_in_build``).
_NOTED: set[str] = set()
_UNSIGNED_NOTED: set[str] = set()
_BASELINES: dict = {}  # (file, its stat) -> the baseline: read once, again when it changes
# The build of the last page converted: the generator's configuration object, and when that page's
# conversion ended (``_Converted``).
_BUILD: dict = {"config": None, "ended": None}
# Zensical's server keeps its configuration from build to build (a new one only when the file
# changes) and converts only the pages edited: a pause this long (seconds) since the last page's
# conversion ended starts a new build. A build converts its pages one after another with no such
# pause (a few milliseconds apart); a writer's next save comes later than this.
BUILD_GAP = 1.0


def _in_build(source: Source) -> None:
    """Start a new build's notices when this page is the first of a build: the generator's
    configuration is another object than the last page's (MkDocs makes one per build, ``mkdocs
    serve`` too; Zensical one per reading of its file), or, under Zensical, the last page's
    conversion ended more than ``BUILD_GAP`` seconds ago. A page converted with no generator
    behind it (a script) belongs to the process's one "build"."""
    ended = _BUILD["ended"]
    new = source.config is not _BUILD["config"] or (
        source.zensical and ended is not None and time.monotonic() - ended > BUILD_GAP)
    if new:
        _BUILD["config"] = source.config
        _NOTED.clear()
        _UNSIGNED_NOTED.clear()
    _BUILD["ended"] = time.monotonic()  # until ``_Converted`` says when the conversion ended


class _Converted(Postprocessor):
    """The conversion of a page ended (see ``_in_build``)."""

    def run(self, text: str) -> str:
        _BUILD["ended"] = time.monotonic()
        return text


def _not_baselined(settings, file: str | None, findings: list, tally: Tally) -> list:
    """The page's findings the baseline (option baseline) does not hold; those it holds are logged
    at DEBUG, and its entries for this page that no finding matches any more at INFO; both are
    counted in ``tally`` for the summary. A text handed over without its file cannot be looked
    up: all its findings count."""
    from .baseline import BaselineError, Gate, load

    tally.gated = settings.baseline is not None
    if settings.baseline is None or file is None:
        return findings
    try:
        st = os.stat(settings.baseline)
        key = (str(settings.baseline), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        key = (str(settings.baseline),)
    if key not in _BASELINES:
        try:
            baseline = load(settings.baseline)
        except BaselineError as exc:
            raise failure(f"oo-jwt: {exc}") from None
        _BASELINES.clear()
        _BASELINES[key] = baseline
    gate = Gate(_BASELINES[key])
    out = []
    for finding in gate.page(file, findings):
        if finding.baselined:
            log.debug(f"oo-jwt: baselined: {finding_text(finding)}")
        else:
            out.append(finding)
    stale = len(gate.stale())
    tally.baselined, tally.stale = gate.baselined, stale
    if stale:
        log.info(f"oo-jwt: {findings[0].path if findings else gate.baseline.key(file)}: {stale} baseline "
                 f"{'entry' if stale == 1 else 'entries'} of this page no finding matches any more "
                 "(oo-jwt check --update-baseline removes them)")
    return out


def _flows(settings):
    """The flows, loaded once per process and kept while the user's schema files are unchanged (a
    server renders pages again after an edit: ``zensical serve``, ``mkdocs serve``)."""
    from .flows import FlowsError, load_flows

    key = (settings.flows_dirs, _stamps(settings.flows_dirs))
    if key not in _FLOWS:
        _FLOWS.clear()  # one registry at a time: an edited schema's old one is not kept
        try:
            _FLOWS[key] = load_flows(settings.flows_dirs)
        except FlowsError as exc:
            raise failure(f"oo-jwt: flows_dir: {exc}") from None
    return _FLOWS[key]


def _stamps(folders) -> tuple:
    """Name, size, modification and change time of each schema file of ``folders``."""
    out = []
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # loading says why
        for entry in entries:
            if entry.name.endswith(".json"):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                out.append((entry.path, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


class _CheckPage(Preprocessor):
    def __init__(self, md: Markdown, extension: OoJwtExtension):
        super().__init__(md)
        self.extension = extension
        self.stash = None  # the decoded-token panels (option panels): a PanelStash

    def run(self, lines: list[str]) -> list[str]:
        _limit_as_it_was()
        try:
            return _check(self.md, self.extension, lines, self.stash)
        except BuildFailed as exc:
            failed = exc
        except ConfigError as exc:  # flows_dir, a secret that is not text: one line
            failed = failure(f"oo-jwt: {exc}")
        raise ending(failed) from None


class _FillPanels(Postprocessor):
    """Each decoded-token panel in place of the marker paragraph ``_check`` put under its token."""

    def __init__(self, md: Markdown, stash):
        super().__init__(md)
        self.stash = stash

    def run(self, text: str) -> str:
        return self.stash.fill(text)


def material_theme(md: Markdown) -> bool:
    """Is the site's theme Material? Zensical's config (its own theme is Material's successor,
    ``material`` when none is named) or MkDocs' and ProperDocs' (a theme object with a name), as
    the generator registered it on this Markdown."""
    for processor in [*md.preprocessors, *md.treeprocessors]:
        config = getattr(processor, "config", None)
        theme = config.get("theme") if isinstance(config, dict) or hasattr(config, "keys") else None
        if theme is None:
            continue
        name = (theme.get("name") or "material") if isinstance(theme, dict) else getattr(theme, "name", None)
        return name in ("material", "zensical")
    return False


def _check(md: Markdown, extension: OoJwtExtension, lines: list[str], stash=None) -> list[str]:
    from .fixes import apply
    from .model import Finding
    from .page import Page
    from .run.background import check_doc
    from .run.checking import run_notices
    from .run.files import read_page

    body = normalise("\n".join(lines)).removeprefix("\ufeff")  # a BOM is not text (Page keeps it aside too)
    source = source_of(md)
    _in_build(source)
    settings = for_file(extension.settings(source.base or Path.cwd()), source.file)  # the page's own
    flows = _flows(settings)
    secrets = secrets_from_env(settings)
    regenerate = extension.mode == "regenerate"
    if regenerate and not secrets:
        raise failure(no_secret_message(settings, extension.place.table))

    # the page: the source file whole where the text handed over is its body, else that text
    doc: Page | Finding | None = None
    start: int | None = None
    label = None
    if source.file is not None and source.shown is not None:
        doc = read_page(Path(source.file), source.shown, settings)
        if isinstance(doc, Page):
            start = body_line(doc.text, body)
            if start is None:  # changed on the way (a plugin, a preprocessor): check what renders
                label, doc = f"{source.shown} (as handed to Python-Markdown)", None
    if doc is None:
        label = label or body_label(body)
        doc = Page(label, body)

    def where(finding: Finding) -> str | None:
        return None if label is None else spot(finding.location, finding.path, label)  # None: the file's

    _reporting()
    findings: list[Finding] = []
    report = None
    if isinstance(doc, Page):  # a page that cannot be read, a checker bug: findings, no report
        findings, report = findings_of(check_doc(doc, settings, flows, secrets), doc.path,
                                       lambda text: log.debug(f"oo-jwt: {text}"))
    else:
        findings.append(doc)  # the source cannot be read

    fail_on = settings.fail_on
    failing: list[str] = []
    tally = Tally(pages=1)

    def emit(level: int, text: str, fail: bool, severity: str) -> None:
        log.log(level, f"oo-jwt: {text}")
        tally.counts[severity] += 1
        if fail:
            failing.append(text)

    fixes = report.fixes if report is not None and regenerate else []
    for finding in _not_baselined(settings, source.file, findings + (report.findings if report is not None else []), tally):
        fail = fails(finding.severity, fail_on)
        # a build that goes on shows the token freshly signed; one that fails shows nothing
        text = finding_text(finding, regenerated=not fail and regenerated(finding, fixes), where=where(finding))
        emit(log_level(finding.severity, fail_on), text, fail, str(finding.severity))

    unsigned = set(report.unsigned_roles) if report is not None else set()
    if regenerate and report is not None and isinstance(doc, Page):
        from .model import Severity

        for at in unfilled_spots(doc, report, label):
            emit(log_level(Severity.ERROR, fail_on), unfilled_message(at), fails(Severity.ERROR, fail_on), "error")
    needed = needed_roles(unsigned, secrets)
    if report is not None:
        tally.tokens, tally.placeholders = report.tokens, len(report.placeholders)
        if not failing and not (regenerate and needed):  # a page that fails is not built
            tally.filled = sum(1 for fix in fixes if fix.span in report.placeholders)
            tally.resigned = len(fixes) - tally.filled
    _counted(source.file or label or doc.path, tally, regenerate)
    news = set() if regenerate else unsigned - _UNSIGNED_NOTED
    _UNSIGNED_NOTED.update(news)
    for notice in run_notices(secrets, news):
        if notice.message not in _NOTED:
            _NOTED.add(notice.message)
            log.info(f"oo-jwt: {notice.message}")  # said, never a reason to fail (as in the plugin and the command)

    if regenerate and needed:
        raise failure(roles_without_secret_message(settings, needed, [f"unsigned tokens on {label or doc.path}"],
                                                   extension.place.table))
    if failing:
        more = len(failing) - 1
        raise failure(f"oo-jwt: {failing[0]}" + (f" (and {more} more on this page, logged above)" if more else ""))

    edits = list(fixes)
    if stash is not None and report is not None and isinstance(doc, Page):
        from .panels import page_panels

        left = stash.forget()  # the page converted before: its markers were all filled, or said here
        if left:  # a preprocessor after oo-jwt dropped the marker lines
            log.info(f"oo-jwt: {len(left)} decoded-token panel(s) of the page converted before left out: the "
                     "Markdown was changed after oo-jwt added them")
        material = material_theme(md)  # whose search (Material's, Zensical's) skips what is marked
        edits += stash.edits(doc, page_panels(doc, settings, flows, secrets, fixes, material=material,
                                              search_exclude=material))
    if not edits:
        return lines
    if label is not None:  # the text itself was checked: its offsets are the body's
        return apply(body, edits).split("\n")
    # the source file was checked: sign in the file's text, hand on what follows its front matter
    first = doc.line_starts[start]
    fixed = apply(doc.text, [f for f in edits if f.span.start >= first])
    return normalise(fixed).split("\n")[start:]
