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
freshly signed tokens in the Markdown handed on (never in the file).

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

import functools
import hashlib
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from .settings import MKDOCS, ConfigError, OptionError, checked, markdown_extension_config, secrets_from_env, settings_from, unknown_option
from .settings import EXTENSION
from .site import (UNFILLED, fails, finding_text, log_level, no_secret_message, normalise, regenerated,
                   roles_without_secret_message, unfilled)

log = logging.getLogger("mkdocs.extensions.oo_jwt")  # under mkdocs.*: MkDocs' strict mode counts its warnings
ORIGIN = f"markdown_extensions.{EXTENSION}"
# Before Python-Markdown's normalize_whitespace (30) and pymdownx.snippets (32): the text as the
# generator handed it over, which is the source file's body when nothing changed it
PRIORITY = 40


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


class OoJwtExtension(Extension):
    """The options of the MkDocs plugin (``settings.markdown_extension_config``), checked as the
    plugin checks them: an unknown option, or a value the plugin refuses, is the same error."""

    def __init__(self, **kwargs: Any):
        self.config = markdown_extension_config()
        self._given: dict[str, Any] = {}
        try:
            super().__init__(**kwargs)  # setConfigs: each option through setConfig below
            self.values = checked(self._given, MKDOCS, ORIGIN)
        except OptionError as exc:  # "<origin>: <option>: <problem>", without the frames of the checks
            raise exc.with_traceback(None) from None

    def setConfig(self, key: str, value: Any) -> None:
        """Keep the value as written: Python-Markdown's own setConfig would read a list given to an
        option whose default is None as True."""
        if key not in self.config:
            raise OptionError(ORIGIN, str(key), unknown_option(key, MKDOCS))
        self._given[key] = value

    def settings(self, base: Path):
        """The settings, with ``flows_dir`` relative to ``base`` (the generator's config folder):
        the plugin's reading of options given from Python (``secrets`` values are those of the
        environment variables that hold them)."""
        return settings_from(self.values, base, ORIGIN, os.environ)

    @property
    def mode(self) -> str:
        return self.values.get("mode", "verify")

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_CheckPage(md, self), "oo_jwt", PRIORITY)


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


def source_of(md: Markdown) -> Source:
    """What the generator registered on this Markdown instance about the page (duck-typed: nothing
    is imported from a generator)."""
    for processor in md.preprocessors:  # Zensical's ContextPreprocessor: page.path, config
        page, config = getattr(processor, "page", None), getattr(processor, "config", None)
        path = getattr(page, "path", None)
        if isinstance(path, str) and path and isinstance(config, dict) and config.get("root_dir"):
            root = Path(str(config["root_dir"]))
            return Source(str(root / str(config.get("docs_dir") or "docs") / path), path, root)
    for processor in md.treeprocessors:  # MkDocs' and ProperDocs' tree processors: file, config
        file = getattr(processor, "file", None)
        shown = getattr(file, "src_uri", None)
        if isinstance(shown, str) and shown:
            config = getattr(processor, "config", None)
            config_file = config.get("config_file_path") if hasattr(config, "get") else None
            abs_src = getattr(file, "abs_src_path", None)
            return Source(abs_src if isinstance(abs_src, str) else None, shown,
                          Path(config_file).parent if isinstance(config_file, str) else None)
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
_NOTED: set[str] = set()  # run notices already logged by this process


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

    def run(self, lines: list[str]) -> list[str]:
        try:
            return _check(self.md, self.extension, lines)
        except BuildFailed as exc:
            failed = exc
        except ConfigError as exc:  # flows_dir, a secret that is not text: one line
            failed = failure(f"oo-jwt: {exc}")
        # raised here, without the frames below: a generator that prints the traceback (Zensical)
        # prints as few lines as it can around the one-line message
        raise failed.with_traceback(None) from None


def _check(md: Markdown, extension: OoJwtExtension, lines: list[str]) -> list[str]:
    from .fixes import apply
    from .model import Finding
    from .page import Page
    from .run.background import check_doc
    from .run.checking import run_notices
    from .run.files import read_page

    body = normalise("\n".join(lines)).removeprefix("\ufeff")  # a BOM is not text (Page keeps it aside too)
    source = source_of(md)
    settings = extension.settings(source.base or Path.cwd())
    flows = _flows(settings)
    secrets = secrets_from_env(settings)
    regenerate = extension.mode == "regenerate"
    if regenerate and not secrets:
        raise failure(no_secret_message(settings))

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
        if label is None:
            return None  # the file's path, line and column
        return f"{label}, body line {finding.location.line}, column {finding.location.column}"

    checked_page = check_doc(doc, settings, flows, secrets) if isinstance(doc, Page) else None
    findings: list[Finding] = []
    report = None
    if checked_page is None:
        findings.append(doc)  # the source cannot be read
    elif checked_page.problem is not None:
        findings.append(checked_page.problem)
    elif checked_page.failure is not None:
        finding, frames = checked_page.failure
        log.debug(f"oo-jwt: {doc.path}: where the checker failed (its message left out):\n{frames}")
        findings.append(finding)
    else:
        report = checked_page.report

    fail_on = settings.fail_on
    failing: list[str] = []

    def emit(level: int, text: str, fail: bool) -> None:
        log.log(level, f"oo-jwt: {text}")
        if fail:
            failing.append(text)

    fixes = report.fixes if report is not None and regenerate else []
    for finding in findings + (report.findings if report is not None else []):
        fail = fails(finding.severity, fail_on)
        # a build that goes on shows the token freshly signed; one that fails shows nothing
        text = finding_text(finding, regenerated=not fail and regenerated(finding, fixes), where=where(finding))
        emit(log_level(finding.severity, fail_on), text, fail)

    unsigned = set(report.unsigned_roles) if report is not None else set()
    if regenerate and report is not None and isinstance(doc, Page):
        from .model import Severity

        for span in unfilled(report):
            at = doc.location(span)
            spot = (f"{label}, body line {at.line}, column {at.column}" if label is not None
                    else f"{doc.path}:{at.line}:{at.column}")
            emit(log_level(Severity.ERROR, fail_on), f"{spot}: {UNFILLED}", fails(Severity.ERROR, fail_on))
    for notice in run_notices(secrets, set() if regenerate else unsigned):
        if notice.message not in _NOTED:  # once per build process, as the plugin says them once per build
            _NOTED.add(notice.message)
            log.info(f"oo-jwt: {notice.message}")  # said, never a reason to fail (as in the plugin and the command)

    needed = sorted(r for r in unsigned if r and r not in secrets)
    if regenerate and needed:
        raise failure(roles_without_secret_message(settings, needed, [f"unsigned tokens on {label or doc.path}"]))
    if failing:
        more = len(failing) - 1
        raise failure(f"oo-jwt: {failing[0]}" + (f" (and {more} more on this page, logged above)" if more else ""))

    if not fixes:
        return lines
    if label is not None:  # the text itself was checked: its offsets are the body's
        return apply(body, fixes).split("\n")
    # the source file was checked: sign in the file's text, hand on what follows its front matter
    first = doc.line_starts[start]
    fixed = apply(doc.text, [f for f in fixes if f.span.start >= first])
    return normalise(fixed).split("\n")[start:]
