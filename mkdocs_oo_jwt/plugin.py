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
      flows_dir: flows            # extra or overriding flow schemas, relative to mkdocs.yml
      disable: [token-unpaired]   # rule ids
      fail_on: error              # error | warning | never
      keep_claims: false
      max_samples_per_page: 1000  # and max_page_bytes, max_token_bytes, max_json_depth (see README)
```

Findings are logged through MkDocs (``path:line:col: rule [flow] message``, with line numbers of the
source file, front matter included): errors at WARNING level, so ``mkdocs build --strict`` fails on
them. Secrets are wrapped in ``settings.Secret`` as soon as MkDocs hands them over and never logged.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger

from .report.text import one_line
from .settings import EnvRef, Secret, mkdocs_yaml_loader

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page as MkDocsPage

    from .model import Finding, Severity
    from .page import Page

log = get_plugin_logger(__name__)

ROLES = ("inbox", "outbox", "browser")  # = flows.ROLES (not imported here: keeps the import light)
MODES = ("verify", "regenerate")
PLACEHOLDER = "<oo-jwt>"  # = samples.PLACEHOLDER
SOURCE_LITERAL = "mkdocs.yml"  # Secret.source of a value written in mkdocs.yml


def _env_hint(role: str) -> str:
    return f"!ENV [OO_JWT_SECRET_{role.upper()}, OO_JWT_SECRET, null]"


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


class _StrictConfig(base.Config):
    """A typo in an option name is a configuration error, not a warning that a build shrugs off."""

    def _validate(self):
        failed, warnings = super()._validate()
        unknown = sorted(set(self.keys()) - self._schema_keys, key=str)
        if unknown:
            warnings = [w for w in warnings if w[0] not in unknown]
            known = ", ".join(k for k, _ in self._schema)
            failed.extend((k, c.ValidationError(f"unknown option (the options are: {known})")) for k in unknown)
        return failed, warnings


class _SecretOption(c.BaseConfigOption[Secret]):
    """One role's secret: a scalar (from ``!ENV``), wrapped in a ``Secret`` at once and never echoed."""

    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def run_validation(self, value: object) -> Secret | None:
        if isinstance(value, Secret):
            return value
        if isinstance(value, (dict, list, tuple, set)):
            raise c.ValidationError(f"expected one value from the environment: {self.role}: {_env_hint(self.role)}")
        text = str(value)
        return Secret(text, SOURCE_LITERAL) if text else None


class _SecretsConfig(_StrictConfig):
    inbox = c.Optional(_SecretOption("inbox"))
    outbox = c.Optional(_SecretOption("outbox"))
    browser = c.Optional(_SecretOption("browser"))


class _Version(c.BaseConfigOption[str]):
    def run_validation(self, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise c.ValidationError('expected a version such as "8.2" or "latest" (quote it)')
        from .flows import FlowsError, parse_version

        text = str(value)
        try:
            parse_version(text)
        except FlowsError as exc:
            raise c.ValidationError(str(exc))
        return text


class _Rules(c.BaseConfigOption[frozenset]):
    """Rule ids, as a list or a comma-separated string, checked against the rule catalog."""

    def __init__(self):
        super().__init__()
        self.default = []

    def run_validation(self, value: object) -> frozenset:
        from .settings import ConfigError, parse_rules

        if value is None:
            return frozenset()
        if not isinstance(value, (str, list, tuple)):
            raise c.ValidationError("expected a list of rule ids (see `oo-jwt rules`)")
        try:
            return parse_rules(value, "disable")
        except ConfigError as exc:
            raise c.ValidationError(str(exc).removeprefix("disable: "))


class _Limit(c.BaseConfigOption[int]):
    """A bound on the work one page can make (see ``settings.LIMITS``): a positive whole number."""

    def __init__(self, name: str):
        super().__init__()
        from .settings import Settings

        self.default = getattr(Settings(), name)

    def run_validation(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise c.ValidationError("expected a positive whole number")
        return value


class OoJwtConfig(_StrictConfig):
    mode = c.Choice(MODES, default="verify")
    secrets = c.SubConfig(_SecretsConfig)
    version = c.Optional(_Version())
    flows_dir = c.Optional(c.Dir(exists=True))
    disable = _Rules()
    fail_on = c.Choice(("error", "warning", "never"), default="error")
    keep_claims = c.Type(bool, default=False)
    max_page_bytes = _Limit("max_page_bytes")
    max_token_bytes = _Limit("max_token_bytes")
    max_json_depth = _Limit("max_json_depth")
    max_samples_per_page = _Limit("max_samples_per_page")


# --------------------------------------------------------------------------------------------
# Where each role's secret comes from
# --------------------------------------------------------------------------------------------


_MISSING = object()


def _raw_secrets_section(config_file_path: str | None) -> Mapping | None:
    """``plugins.oo-jwt.secrets`` of the config file as written (INHERIT followed as MkDocs does), or
    None when it cannot be read that way (no file, stdin, unreadable, no such section)."""
    if not config_file_path or not os.path.isfile(config_file_path):
        return None
    try:
        from mkdocs.utils.yaml import yaml_load

        with open(config_file_path, "rb") as fd:
            data = yaml_load(fd, mkdocs_yaml_loader())
    except Exception:  # noqa: BLE001 - MkDocs has read it already; any trouble here means "unknown"
        return None
    plugins = data.get("plugins") if isinstance(data, dict) else None
    section: Any = None
    if isinstance(plugins, dict):
        section = plugins.get("oo-jwt")
    elif isinstance(plugins, list):
        for item in plugins:
            if isinstance(item, dict) and "oo-jwt" in item:
                section = item["oo-jwt"]
                break
    secrets = section.get("secrets") if isinstance(section, dict) else None
    return secrets if isinstance(secrets, dict) else None


def _as_mkdocs_reads(text: str) -> Any:
    """An environment value as MkDocs' ``!ENV`` turns it into a Python value (YAML implicit types)."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        tag = loader.resolve(yaml.ScalarNode, text, (True, False))
        return loader.construct_object(yaml.ScalarNode(tag, text))
    except Exception:  # noqa: BLE001
        return text
    finally:
        loader.dispose()


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text or None


class _SecretPlan:
    """How to find each role's secret at build time: environment variables tried in order (empty ones
    skipped, like the command does), then a value written in mkdocs.yml, if any."""

    def __init__(self) -> None:
        self.env: dict[str, tuple[str, ...]] = {}
        self.literal: dict[str, Secret] = {}
        self.warnings: list[str] = []

    def resolve(self, environ: Mapping[str, str]) -> dict[str, Secret]:
        out = {}
        for role in ROLES:
            for name in self.env.get(role, ()):
                value = environ.get(name)
                if value:
                    out[role] = Secret(value, name)
                    break
            else:
                if role in self.literal:
                    out[role] = self.literal[role]
        return out

    def names(self) -> list[str]:
        """Every environment variable that can give a secret, the shared ones first."""
        seen: dict[str, int] = {}
        for names in self.env.values():
            for name in names:
                seen[name] = seen.get(name, 0) + 1
        return sorted(seen, key=lambda n: -seen[n])


def _plan_secrets(given: Mapping | None, validated: Mapping[str, Secret | None], config_file_path: str | None,
                  environ: Mapping[str, str]) -> _SecretPlan:
    """Decide where each role's secret comes from.

    Without a ``secrets`` option (or for a role it leaves out) the role reads the command's variables,
    OO_JWT_SECRET_<ROLE> then OO_JWT_SECRET. For a role it lists, the config file is read again with a
    loader that keeps ``!ENV`` tags: the variable names come from the tag, and the secret is read
    from the environment by name, exactly as set (MkDocs' own ``!ENV`` would turn "0123" into 83 and
    "null" into nothing). Anything not under an ``!ENV`` tag is a literal secret in mkdocs.yml, which
    gets a warning. When the file cannot tell (the config came from stdin or from Python, or the
    tag does not explain the value MkDocs found, e.g. an option overridden from Python), the value
    MkDocs validated is used, and it counts as coming from the environment only if some environment
    variable, read as MkDocs reads it, gives exactly that value.
    """
    from .settings import default_secret_env

    plan = _SecretPlan()
    for role in ROLES:
        plan.env[role] = default_secret_env(role)
    if given is None:
        return plan
    raw = _raw_secrets_section(config_file_path)
    for role in ROLES:
        if role not in given:
            continue
        seen = validated.get(role)
        seen_text = seen.reveal() if seen is not None else None
        written = raw.get(role) if raw is not None and role in raw else _MISSING
        if isinstance(written, EnvRef):
            # What MkDocs' !ENV made of it: the first variable set, else the default.
            mkdocs_value = next(
                (_str_or_none(_as_mkdocs_reads(environ[n])) for n in written.names if n in environ),
                _str_or_none(written.default),
            )
            if mkdocs_value == seen_text:
                plan.env[role] = written.names
                if written.default is not None:
                    plan.literal[role] = Secret(str(written.default), SOURCE_LITERAL)
                    plan.warnings.append(
                        f"secrets.{role}: the last item of an !ENV list is its default value, a secret written in "
                        f"mkdocs.yml, used when no variable is set; end the list with null: {role}: {_env_hint(role)}"
                    )
                continue
        elif written is not _MISSING and _str_or_none(written) == seen_text:
            plan.env[role] = ()
            if seen is not None:
                plan.literal[role] = seen
                plan.warnings.append(_literal_warning(role))
            continue
        # The file does not explain the value: compare it with the environment.
        plan.env[role] = ()
        if seen is None:
            continue
        name = next((n for n, v in environ.items() if v and _str_or_none(_as_mkdocs_reads(v)) == seen_text), None)
        if name is not None:
            plan.literal[role] = Secret(seen_text, name)
        else:
            plan.literal[role] = seen
            plan.warnings.append(_literal_warning(role))
    return plan


def _literal_warning(role: str) -> str:
    return (
        f"secrets.{role} is written in mkdocs.yml: a secret must not live in a file under version control; "
        f"give it through the environment: {role}: {_env_hint(role)}"
    )


# --------------------------------------------------------------------------------------------
# The plugin
# --------------------------------------------------------------------------------------------

def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _normalise(text: str) -> str:
    """Newlines as MkDocs reads a page (text mode: universal newlines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strip_meta(text: str) -> str:
    from mkdocs.utils.meta import get_data

    return get_data(_normalise(text))[0]


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
                    # Through the plugin's logger without its "mkdocs_oo_jwt: " prefix: a measurement
                    # read verbatim by the benchmark, not one of the "oo-jwt: ..." messages for users.
                    log.logger.debug(f"oo-jwt: plugin time {self._time:.3f} s in {self._pages} pages")

        return timed

    return decorate


class OoJwtPlugin(BasePlugin[OoJwtConfig]):
    """Check the JSON examples and sample JWTs of every page; optionally sign the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self._plan = _SecretPlan()
        self._secrets: dict[str, Secret] = {}
        self._settings = None
        self._flows = None
        self._background = None
        self._reset()

    # ---- configuration ---------------------------------------------------------------------

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None):
        raw_secrets = options.get("secrets") if isinstance(options, dict) else None
        errors, warnings = super().load_config(options, config_file_path)
        if isinstance(raw_secrets, dict):
            # Leave no plain secret in the options dict MkDocs keeps (misspelt roles included).
            for key, value in list(raw_secrets.items()):
                if value is not None and not isinstance(value, Secret):
                    raw_secrets[key] = Secret(str(value), SOURCE_LITERAL)
        if errors:
            return errors, warnings
        given = raw_secrets if isinstance(raw_secrets, dict) else None
        self._plan = _plan_secrets(given, self.config.secrets, config_file_path, os.environ)
        warnings.extend(("secrets", w) for w in self._plan.warnings)
        return errors, warnings

    def _reset(self) -> None:
        """Per-build state: nothing carries over from one build (or `mkdocs serve` rebuild) to the next."""
        self._counts = {"error": 0, "warning": 0, "info": 0}
        self._pages = 0
        self._signed = 0
        self._unsigned: dict[str, set[str]] = {}  # role -> pages whose tokens of that role went unsigned
        self._unfilled: list[str] = []  # "page:line:col" of placeholders left in the built site
        self._time = 0.0  # seconds spent in this plugin's build hooks (on_serve runs outside any build)
        self._deferred: list[str] = []  # pages checked in the background, logged at the end of the build

    def _close_background(self) -> None:
        background, self._background = self._background, None
        if background is not None:
            background.close()

    @_timed()
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        from .flows import FlowsError, load_flows
        from .settings import LIMITS, Settings

        self._reset()
        opts = self.config
        self._settings = Settings(
            version=opts.version,
            flows_dirs=(Path(opts.flows_dir).resolve(),) if opts.flows_dir else (),
            disable=opts.disable or frozenset(),
            fail_on=opts.fail_on,
            keep_claims=opts.keep_claims,
            **{name: opts[name] for name in LIMITS},
            secret_env={role: self._plan.env.get(role, ()) for role in ROLES},
        )
        try:
            self._flows = load_flows(self._settings.flows_dirs)
        except FlowsError as exc:
            raise PluginError(f"oo-jwt: flows_dir: {exc}") from None
        self._secrets = self._plan.resolve(os.environ)
        if opts.mode == "regenerate" and not self._secrets:
            raise PluginError(
                "oo-jwt: mode: regenerate signs sample tokens and needs a secret, but none is set: "
                f"set {self._names_hint()} in the environment"
            )
        return config

    def _names_hint(self, roles=ROLES) -> str:
        shared = [n for n in self._plan.names() if all(n in self._plan.env.get(r, ()) for r in roles)]
        own = [n for n in self._plan.names() if n not in shared and any(n in self._plan.env.get(r, ()) for r in roles)]
        if shared and own:
            return f"{' or '.join(shared)} (or, for one role, {', '.join(own)})"
        if shared or own:
            return " or ".join(shared or own)
        return "a secret under plugins.oo-jwt.secrets: " + ", ".join(f"{r}: {_env_hint(r)}" for r in roles)

    def on_serve(self, server, /, *, config: MkDocsConfig, builder):
        if self.config.flows_dir:
            server.watch(self.config.flows_dir)
        return server

    # ---- pages -------------------------------------------------------------------------------

    def _level(self, severity: Severity) -> int:
        fail_on = self.config.fail_on
        name = str(severity)
        if name == "error":
            return logging.INFO if fail_on == "never" else logging.WARNING
        if name == "warning":
            return logging.WARNING if fail_on == "warning" else logging.INFO
        return logging.DEBUG

    def _log(self, finding: Finding, *, regenerated: bool = False) -> None:
        loc = finding.location
        flow = f" [{one_line(finding.flow)}]" if finding.flow is not None else ""
        text = f"{one_line(finding.path)}:{loc.line}:{loc.column}: {finding.rule}{flow} {one_line(finding.message)}"
        if regenerated:
            # The built page shows a freshly signed token, but the source stays stale: still a finding
            # (a broken token must fail `mkdocs build --strict`), with the way to fix the source.
            text += " (the built page has a freshly signed token; `oo-jwt fix` updates the source)"
        self._counts[str(finding.severity)] += 1
        log.log(self._level(finding.severity), self._redact(text))

    def _redact(self, text: str) -> str:
        for secret in self._secrets.values():
            value = secret.reveal()
            if value and value in text:
                text = text.replace(value, "[secret]")
        return text

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
            return markdown
        checked = self._background.result(shown) if background else None
        doc = self._read(page)
        if checked is not None and (isinstance(doc, Finding) or checked.digest == digest(doc)):
            return self._use(shown, checked, doc, markdown)
        # not checked in the background, or the page changed on disk since: check it here
        if isinstance(doc, Finding):
            self._log(doc)
            return markdown
        return self._use(shown, check_doc(doc, self._settings, self._flows, self._secrets), doc, markdown)

    def _use(self, shown: str, checked, doc: Page | Finding | None = None, markdown: str | None = None) -> str | None:
        """Log one page's findings; in mode regenerate, return its Markdown with fresh tokens."""
        from .page import Page
        if checked.problem is not None:
            self._log(checked.problem)
            return markdown
        if checked.failure is not None:
            summary, details = checked.failure
            log.debug(self._redact(details))
            raise PluginError(self._redact(f"oo-jwt: {shown}: internal error: {summary}"))
        report = checked.report
        if report is None:
            return markdown
        regenerate = self.config.mode == "regenerate"
        fixed = [f.span for f in report.fixes] if regenerate else []
        for finding in report.findings:
            covered = finding.span is not None and any(s.contains(finding.span) for s in fixed)
            self._log(finding, regenerated=covered)
        for role in report.unsigned_roles:
            self._unsigned.setdefault(role, set()).add(shown)
        if not regenerate or not isinstance(doc, Page) or markdown is None:
            return markdown
        self._check_placeholders(doc, report)
        if not report.fixes:
            return markdown
        self._signed += len(report.fixes)
        return self._regenerated(doc, markdown, report.fixes)

    def _check_placeholders(self, doc: Page, report) -> None:
        """Placeholders the build could not fill (no secret for the role, no flow, no example to sign)."""
        from .model import Severity

        filled = {f.span for f in report.fixes}
        for span in report.placeholders:
            if span not in filled:
                loc = doc.location(span)
                where = f"{one_line(doc.path)}:{loc.line}:{loc.column}"
                self._unfilled.append(where)
                self._counts["error"] += 1
                log.log(
                    self._level(Severity.ERROR),
                    f"{where}: placeholder {PLACEHOLDER} left in the built page: no token could be signed for it "
                    "(no secret for its flow's role, no known flow, or no valid example to sign)",
                )

    def _regenerated(self, doc: Page, markdown: str, fixes) -> str:
        from .fixes import apply
        from .model import Severity

        if _strip_meta(doc.text) == markdown:
            return _strip_meta(apply(doc.text, fixes))
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
                log.log(
                    self._level(Severity.ERROR),
                    f"{one_line(doc.path)}:{loc.line}:{loc.column}: a token to regenerate is not in the Markdown "
                    "handed to oo-jwt (another plugin changed it): left as it is",
                )
                continue
            markdown = markdown[:at] + fix.replacement + markdown[at + len(old):]
            cursor = at + len(fix.replacement)
        return markdown

    # ---- end of the build ----------------------------------------------------------------------

    def summary(self) -> str:
        counts = ", ".join(_plural(self._counts[k], k) for k in ("error", "warning", "info"))
        line = f"oo-jwt: {counts} in {_plural(self._pages, 'page')}"
        if self.config.mode == "regenerate":
            line += f"; {_plural(self._signed, 'sample token')} signed in the built pages"
        return line

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
        needed = sorted(r for r in self._unsigned if r and r not in self._secrets)
        fatal = regenerate and bool(without) and bool(needed or self._unfilled)
        log.info(self.summary())
        for notice in run_notices(self._secrets, set() if fatal else set(self._unsigned)):
            # Notices never fail a build on their own (as with the command), unless fail_on is warning.
            level = max(self._level(notice.severity), logging.INFO)
            log.log(level, self._redact(f"oo-jwt: {notice.message}"))
        if fatal:
            roles = needed or without
            left = []
            if needed:
                left.append("unsigned tokens on " + _some(sorted({p for r in needed for p in self._unsigned[r]})))
            if self._unfilled:
                left.append("placeholders at " + _some(self._unfilled))
            raise PluginError(
                f"oo-jwt: mode: regenerate needs a secret for the {', '.join(roles)} "
                f"role{'s' if len(roles) > 1 else ''} ({'; '.join(left)}): "
                f"set {self._names_hint(roles)} in the environment"
            )


def _some(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
