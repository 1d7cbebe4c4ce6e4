"""The MkDocs plugin: check every page's JSON examples and sample tokens while the site builds, and in
``mode: regenerate`` put freshly signed tokens into the built pages (the Markdown files are never
changed).

```yaml
plugins:
  - oo-jwt:
      mode: regenerate            # or verify (the default)
      secrets:                    # optional; without it, OO_JWT_SECRET[_INBOX|_OUTBOX|_BROWSER] are read
        inbox: !ENV [OO_JWT_SECRET_INBOX, OO_JWT_SECRET, null]
        outbox: !ENV [OO_JWT_SECRET_OUTBOX, OO_JWT_SECRET, null]
        browser: !ENV [OO_JWT_SECRET_BROWSER, OO_JWT_SECRET, null]
      version: "8.2"              # documented product version (default: latest)
      # flows_dir: flows          # optional: extra or overriding flow schemas, relative to mkdocs.yml
      disable: [token-unpaired]   # rule ids
      fail_on: error              # error | warning | never
      keep_claims: false
      panels: false               # true: a collapsed decoded-token panel under each sample token
      max_samples_per_page: 1000  # and max_page_bytes, max_token_bytes, max_json_depth (see README)
```

Findings are logged through MkDocs (``path:line:col: rule [flow] message``, with line numbers of the
source file, front matter included): errors at WARNING level, so ``mkdocs build --strict`` fails on
them; and since ``mkdocs build -q`` drops warnings before strict mode counts them, a strict build in
which the plugin logged any does not end well even so: the plugin fails it at its end, naming them.
Secrets are wrapped in ``settings.Secret`` as soon as MkDocs hands them over, and no message is ever
made from one (so there is nothing to redact: a secret that is also a word leaves the log intact).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, PrefixedLogger, event_priority, get_plugin_logger

from .report.common import plural
from .report.text import one_line
from .samples import PLACEHOLDER
from .settings import (MKDOCS, OPTIONS, ROLES, ConfigError, Invalid, Option, OptionError, Secret, shown_problem,
                       unknown_option)
from .settings import EXTENSION
from .site import (Tally, finding_text, findings_of, log_level, needed_roles, no_secret_message, normalise,
                   regenerated, roles_without_secret_message, summary_line, unfilled_message, unfilled_spots)

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page as MkDocsPage

    from .model import Finding, Severity
    from .page import Page

# MkDocs' plugin logger (so strict mode counts its warnings), its prefix the tool's name: every line
# reads "oo-jwt: ...", once (get_plugin_logger's own prefix would be the package, "mkdocs_oo_jwt").
log = PrefixedLogger("oo-jwt", get_plugin_logger(__name__).logger)


# --------------------------------------------------------------------------------------------
# Options: derived from settings.OPTIONS (the command's pyproject and mkdocs.yml readers use the
# same declarations and checks: same input, same settings or the same error)
# --------------------------------------------------------------------------------------------


class _StrictConfig(base.Config):
    """A typo in an option name is a configuration error, not a warning that a build shrugs off; an
    option of another place is named in the file it was read from (mkdocs.yml, properdocs.yml...)."""

    def _validate(self):
        failed, warnings = super()._validate()
        unknown = sorted(set(self.keys()) - self._schema_keys, key=str)
        if unknown:
            file = os.path.basename(self.config_file_path or "") or None
            warnings = [w for w in warnings if w[0] not in unknown]
            failed.extend((k, c.ValidationError(unknown_option(k, MKDOCS, file))) for k in unknown)
        return failed, warnings


class _Declared(c.BaseConfigOption):
    """An option as ``settings.OPTIONS`` declares it, checked by the same function as elsewhere."""

    def __init__(self, option: Option):
        super().__init__()
        self.option = option
        self.default = option.default

    def run_validation(self, value: object):
        if value is None:
            return None
        try:
            return self.option.check(value)
        except Invalid as exc:  # MkDocs resolved any !ENV before us: a value equal to one is not shown
            raise c.ValidationError(shown_problem(exc, value)) from None


OoJwtConfig = type("OoJwtConfig", (_StrictConfig,), {o.name: _Declared(o) for o in OPTIONS if MKDOCS in o.where})


# --------------------------------------------------------------------------------------------
# The plugin
# --------------------------------------------------------------------------------------------

def _strip_meta(text: str) -> str:
    from mkdocs.utils.meta import get_data

    return get_data(normalise(text))[0]


def _timed(*, last: bool = False):
    """Add a hook's wall time to the build's plugin time (``_time``), whether it returns or raises; the
    build's last hook (``last``) then logs the total at DEBUG, which benchmarks/bench.py reads from
    ``mkdocs build -v`` (a whole-build timing cannot resolve a few percent)."""

    def decorate(hook):
        @functools.wraps(hook)
        def timed(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return hook(self, *args, **kwargs)
            finally:
                self._time += time.perf_counter() - started
                if last:
                    # Through the plugin's logger without its "oo-jwt: " prefix: a measurement read
                    # verbatim by the benchmark (benchmarks/bench.py), not a message for users.
                    log.logger.debug(f"oo-jwt: plugin time {self._time:.3f} s in {self._pages} pages")

        return timed

    return decorate


class OoJwtPlugin(BasePlugin[OoJwtConfig]):
    """Check the JSON examples and sample JWTs of every page; optionally sign the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, Secret] = {}
        self._settings = None
        self._flows = None
        self._background = None
        self._gate = None  # the build's findings against the baseline (option baseline)
        self._docs_dir = ""
        self._sources: dict[str, str] = {}  # src_uri -> the page's file (per-path settings, the baseline)
        self._stash = None  # the decoded-token panels of the page being built (option panels)
        self._material = False  # the theme is Material: panels take its details styling
        self._reset()

    # ---- configuration ---------------------------------------------------------------------

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None):
        from .settings import load_mkdocs_yml, settings_from

        raw_secrets = options.get("secrets") if isinstance(options, dict) else None
        if isinstance(raw_secrets, dict):
            # Leave no plain secret in the options dict MkDocs keeps (misspelt roles included).
            for key, value in list(raw_secrets.items()):
                if value is not None and not isinstance(value, (Secret, dict, list)):
                    raw_secrets[key] = Secret(str(value), "mkdocs.yml")
        errors, warnings = super().load_config(options, config_file_path)
        if errors:
            return errors, warnings
        try:
            if config_file_path and os.path.isfile(config_file_path):
                # the file as the command reads it (same reader, same settings, same errors), which
                # also tells a secret given by !ENV from one written in the file
                self._settings = load_mkdocs_yml(Path(config_file_path))
            else:  # a config given from Python: the values MkDocs validated
                values = {o.name: self.config[o.name] for o in OPTIONS if MKDOCS in o.where and self.config[o.name] is not None}
                self._settings = settings_from(values, Path.cwd(), "", os.environ)
        except OptionError as exc:
            errors.append((exc.option, c.ValidationError(exc.problem)))
        except ConfigError as exc:
            errors.append(("oo-jwt", c.ValidationError(str(exc))))
        return errors, warnings

    def _reset(self) -> None:
        """Per-build state: nothing carries over from one build (or `mkdocs serve` rebuild) to the next."""
        self._counts = {"error": 0, "warning": 0, "info": 0}
        self._pages = 0
        self._tokens = 0  # sample tokens of the pages checked, placeholders included
        self._placeholders = 0
        self._filled = 0  # placeholders given a signed token in the built pages (mode regenerate)
        self._resigned = 0  # stale tokens replaced by a freshly signed one in the built pages
        self._unsigned: dict[str, set[str]] = {}  # role -> pages whose tokens of that role went unsigned
        self._unfilled: list[str] = []  # "page:line:col" of placeholders left in the built site
        self._time = 0.0  # seconds spent in this plugin's build hooks (on_serve runs outside any build)
        self._deferred: list[str] = []  # pages checked in the background, logged at the end of the build
        self._failing: list[str] = []  # the messages logged at WARNING or above: a strict build fails on them

    def _close_background(self) -> None:
        background, self._background = self._background, None
        if background is not None:
            background.close()

    @_timed()
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        from .flows import FlowsError, load_flows
        from .settings import secrets_from_env

        self._reset()
        _leave_extension(config)
        try:
            self._flows = load_flows(self._settings.flows_dirs)
        except FlowsError as exc:
            raise PluginError(f"oo-jwt: flows_dir: {exc}") from None
        try:
            self._secrets = secrets_from_env(self._settings)
        except ConfigError as exc:
            raise PluginError(f"oo-jwt: {exc}") from None
        if self.config.mode == "regenerate" and not self._secrets:
            raise PluginError(no_secret_message(self._settings))
        self._gate, self._docs_dir = None, config.docs_dir
        if self._settings.baseline is not None:  # read at each build: a serve sees it rewritten
            from .baseline import BaselineError, Gate, load

            try:
                self._gate = Gate(load(self._settings.baseline))
            except BaselineError as exc:
                raise PluginError(f"oo-jwt: {exc}") from None
        if self.config.panels:
            from .panels import PanelStash

            self._stash = PanelStash()
            self._material = getattr(config.theme, "name", None) == "material"
        return config

    def on_serve(self, server, /, *, config: MkDocsConfig, builder):
        """Rebuild when a flow schema or the baseline changes (`--update-baseline` while serving)."""
        for folder in self._settings.flows_dirs:
            server.watch(str(folder))
        if self._settings.baseline is not None and self._settings.baseline.exists():
            server.watch(str(self._settings.baseline))
        return server

    # ---- pages -------------------------------------------------------------------------------

    def _level(self, severity: Severity, shown: str | None = None) -> int:
        """The level of a finding of the page ``shown``, by its own fail_on (per-path overrides)."""
        from .settings import for_file

        return log_level(severity, for_file(self._settings, self._sources.get(shown or "")).fail_on)

    def _log(self, finding: Finding, *, regenerated: bool = False) -> None:
        file = self._sources.get(finding.path)
        if self._gate is not None and file is not None and self._gate.page(file, [finding])[0].baselined:
            log.debug(f"baselined: {finding_text(finding)}")  # in the baseline: said at -v, never failing
            return
        text = finding_text(finding, regenerated=regenerated)
        self._counts[str(finding.severity)] += 1
        self._emit(self._level(finding.severity, finding.path), text)

    def _emit(self, level: int, text: str) -> None:
        """Log one message (never made from a secret), remembering those a strict build fails on."""
        if level >= logging.WARNING:
            self._failing.append(text)
        log.log(level, text)

    def _read(self, page: MkDocsPage) -> Page | Finding:
        from .run.files import page_problem, read_page
        from .page import Page, PageDecodeError

        file = page.file
        shown = file.src_uri
        if file.abs_src_path:
            return read_page(Path(file.abs_src_path), shown, self._settings)
        try:  # a page another plugin made in memory
            return Page.from_bytes(shown, file.content_bytes)
        except PageDecodeError as exc:
            return page_problem(shown, str(exc), exc.line, exc.column)
        except (OSError, ValueError) as exc:
            return page_problem(shown, f"cannot read: {exc.__class__.__name__}")

    @_timed()
    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        """Start checking the source pages in a background process (see ``background.py``)."""
        from .run import background

        self._close_background()
        pages = [(f.abs_src_path, f.src_uri) for f in files.documentation_pages() if f.abs_src_path]
        self._sources = {shown: file for file, shown in pages}  # per-path settings and the baseline go by file
        if background.usable(len(pages)):
            self._background = background.Background(pages, self._settings, self._flows, self._secrets)
        return files

    @_timed()
    def on_page_markdown(self, markdown: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str | None:
        from .run.background import check_doc, digest
        from .model import Finding

        self._pages += 1
        regenerate = self.config.mode == "regenerate"
        shown = page.file.src_uri
        background = self._background is not None and shown in self._background
        if background and not regenerate:
            self._deferred.append(shown)  # collected at the end of the build
            if self._stash is None:
                return markdown
            doc = self._read(page)  # the panels come from the page itself, at once
            panels = [] if isinstance(doc, Finding) else self._panels(doc, [])
            return self._regenerated(doc, markdown, [], insertions=panels) if panels else markdown
        checked = self._background.result(shown) if background else None
        doc = self._read(page)
        if checked is not None and (isinstance(doc, Finding) or checked.digest == digest(doc)):
            return self._use(shown, checked, doc, markdown)
        # not checked in the background, or the page changed on disk since: check it here
        if isinstance(doc, Finding):
            self._log(doc)
            return markdown
        return self._use(shown, check_doc(doc, self._settings, self._flows, self._secrets, self._sources.get(shown)),
                         doc, markdown)

    def _use(self, shown: str, checked, doc: Page | Finding | None = None, markdown: str | None = None) -> str | None:
        """Log one page's findings; in mode regenerate, return its Markdown with fresh tokens."""
        from .page import Page
        problems, report = findings_of(checked, shown, log.debug)  # a page that cannot be read, a checker bug
        for problem in problems:
            self._log(problem)
        if report is None:
            return markdown
        regenerate = self.config.mode == "regenerate"
        fixed = report.fixes if regenerate else []
        panels = self._panels(doc, fixed) if isinstance(doc, Page) and markdown is not None else []
        for finding in report.findings:
            self._log(finding, regenerated=regenerated(finding, fixed))
        for role in report.unsigned_roles:
            self._unsigned.setdefault(role, set()).add(shown)
        self._tokens += report.tokens
        self._placeholders += len(report.placeholders)
        if not regenerate or not isinstance(doc, Page) or markdown is None:
            return self._regenerated(doc, markdown, [], insertions=panels) if panels else markdown
        self._check_placeholders(doc, report)
        if not report.fixes and not panels:
            return markdown
        return self._regenerated(doc, markdown, report.fixes, frozenset(report.placeholders), panels)

    def _panels(self, doc: Page, fixes) -> list:
        """The insertions that put the page's decoded-token panels under its tokens (option panels)."""
        from .panels import page_panels

        if self._stash is None:
            return []
        from .settings import for_file

        settings = for_file(self._settings, self._sources.get(doc.path))  # the page's own, as its check's
        panels = page_panels(doc, settings, self._flows, self._secrets, fixes, material=self._material)
        return self._stash.edits(doc, panels)

    @_timed()
    def on_page_content(self, html: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str | None:
        """Each decoded-token panel's marker paragraph made an HTML comment (option panels): the
        search plugins index ``page.content`` in their ``on_page_context`` (MkDocs' own indexes
        every text of it, Material's skips only what is marked), and a comment is no text. The
        panels go in after them (``on_page_context`` below)."""
        return html if self._stash is None else self._stash.hide(html)

    @event_priority(-100)  # "last": after every search plugin has read the page's content
    @_timed()
    def on_page_context(self, context, /, *, page: MkDocsPage, config: MkDocsConfig, nav):
        """Each decoded-token panel in place of its marker, in the content the theme renders: the
        page shows the panels, the search index holds none of their JSON (option panels)."""
        if self._stash is None:
            return context
        page.content = self._stash.fill(page.content or "")
        left = self._stash.forget(page.file.src_uri)
        if left:  # another plugin changed the Markdown or the HTML after oo-jwt: where the panels went is lost
            log.info(f"{one_line(page.file.src_uri)}: {plural(len(left), 'decoded-token panel')} left out: "
                     "the page was changed after oo-jwt added them")
        return context

    def _check_placeholders(self, doc: Page, report) -> None:
        """Placeholders the build could not fill (no secret for the role, no flow, no example to sign)."""
        from .model import Severity

        for where in unfilled_spots(doc, report):
            self._unfilled.append(where)
            self._counts["error"] += 1
            self._emit(self._level(Severity.ERROR, doc.path), unfilled_message(where))

    def _signed(self, fix, placeholders: frozenset) -> None:
        """Count a token put into a built page: a placeholder filled, or a stale token re-signed."""
        if fix.span in placeholders:
            self._filled += 1
        else:
            self._resigned += 1

    def _regenerated(self, doc: Page, markdown: str, fixes, placeholders: frozenset = frozenset(), insertions=()) -> str:
        """The page's Markdown with its fresh tokens (``fixes``) and its panels' markers (``insertions``)."""
        from .fixes import apply
        from .model import Severity

        if _strip_meta(doc.text) == markdown:
            for fix in fixes:
                self._signed(fix, placeholders)
            return _strip_meta(apply(doc.text, [*fixes, *insertions]))
        if insertions:  # their places are lines of the file: unknown in a text another plugin changed
            log.info(f"{one_line(doc.path)}: no decoded-token panels: the Markdown was changed before oo-jwt saw it")
            self._stash.forget(doc.path)
        # Another plugin changed the Markdown: swap each old token for its new one, in page order.
        log.debug(f"{doc.path}: the Markdown was changed before oo-jwt saw it; replacing tokens by their text")
        cursor = 0
        for fix in sorted(fixes, key=lambda f: f.span.start):
            old = doc.text[fix.span.start:fix.span.end]
            at = markdown.find(old, cursor)
            if at < 0 and old != PLACEHOLDER:
                at = markdown.find(old)
            if at < 0:
                loc = doc.location(fix.span)
                self._counts["error"] += 1
                self._emit(
                    self._level(Severity.ERROR, doc.path),
                    f"{one_line(doc.path)}:{loc.line}:{loc.column}: a token to regenerate is not in the Markdown "
                    "handed to oo-jwt (another plugin changed it): left as it is",
                )
                continue
            markdown = markdown[:at] + fix.replacement + markdown[at + len(old):]
            cursor = at + len(fix.replacement)
            self._signed(fix, placeholders)
        return markdown

    # ---- end of the build ----------------------------------------------------------------------

    def summary(self) -> str:
        """The build's last line (logged with the "oo-jwt: " prefix), each number saying what it
        counts: findings by severity; the pages, and the sample tokens and placeholders they hold;
        in mode regenerate, what the built pages got (the other tokens were right as written); in
        mode verify, the placeholders the built pages show as written."""
        tally = Tally(self._counts, self._pages, self._tokens, self._placeholders, self._filled, self._resigned)
        if self._gate is not None:
            tally.gated, tally.baselined = True, self._gate.baselined
            tally.stale = len(self._gate.stale([self._docs_dir]))
        return summary_line(tally, self.config.mode == "regenerate")

    def on_build_error(self, *, error: Exception) -> None:
        self._close_background()

    @_timed(last=True)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        from .run.checking import run_notices

        try:
            for shown in self._deferred:  # in the order MkDocs built them
                self._use(shown, self._background.result(shown))
        finally:
            self._close_background()

        regenerate = self.config.mode == "regenerate"
        without = [r for r in ROLES if r not in self._secrets]
        needed = needed_roles(self._unsigned, self._secrets)
        fatal = regenerate and bool(without) and bool(needed or self._unfilled)
        log.info(self.summary())
        for notice in run_notices(self._secrets, set() if fatal else set(self._unsigned)):
            # A notice (a short secret, roles without one) is said, never a reason to fail: as with
            # the command (whose exit code only findings set) and the extension, whatever fail_on
            self._emit(logging.INFO, notice.message)
        if fatal:
            roles = needed or without
            left = []
            if needed:
                left.append("unsigned tokens on " + _some(sorted({p for r in needed for p in self._unsigned[r]})))
            if self._unfilled:
                left.append("placeholders at " + _some(self._unfilled))
            raise PluginError(roles_without_secret_message(self._settings, roles, left))
        if config.strict and self._failing and not log.isEnabledFor(logging.WARNING):
            # `mkdocs build -q` sets MkDocs' logger to ERROR: the warnings above were dropped before
            # strict mode could count them, and the build would pass. Fail it, saying what it hid.
            shown = self._failing[:_STRICT_SHOWN]
            more = len(self._failing) - len(shown)
            raise PluginError(
                f"oo-jwt: strict mode: {plural(len(self._failing), 'problem')} that -q (--quiet) hides:\n"
                + "\n".join(shown) + (f"\n... and {more} more (build without -q to see them all)" if more else "")
            )


_STRICT_SHOWN = 20  # findings named in the error that ends a quiet strict build


def _leave_extension(config: MkDocsConfig) -> None:
    """One check, one report: a site that lists both the plugin and the Python-Markdown extension
    (``markdown_extensions: - mkdocs_oo_jwt.extension``, so that Zensical checks it too) is checked
    by the plugin alone under MkDocs and ProperDocs, which knows each page's file and the end of the
    build; the extension's entry is taken out of this build's Markdown: out of the list itself,
    which a plugin whose on_config ran before may keep (mkdocstrings' handlers render docstrings
    with it), so that no Markdown of the build runs the extension."""
    extensions = config["markdown_extensions"] or []
    ours = [e for e in extensions if (e if isinstance(e, str) else type(e).__module__).split(":")[0] == EXTENSION]
    if not ours:
        return
    extensions[:] = [e for e in extensions if not any(e is o for o in ours)]
    mdx_configs = config["mdx_configs"] or {}
    for name in [n for n in mdx_configs if str(n).split(":")[0] == EXTENSION]:
        del mdx_configs[name]
    log.info(f"markdown_extensions: {EXTENSION} left to the plugin (one check, one report)")


def _some(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
