"""The engine: ``check_page`` for one page, ``check_paths`` for a run. The only entry points the
front ends (command, MkDocs plugin, fixer) call; nothing here prints.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from stat import S_ISREG
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .flows import FlowRegistry, bundled_schema_dir, load_flows, parse_version
from .model import Finding, Fix, Location, Notice, RunResult, Severity, Span
from .page import Page, PageDecodeError
from .settings import MIN_SECRET_BYTES, Secret, Settings, secrets_from_env
from .stamps import Stamp, file_stamp, stamp_of

if TYPE_CHECKING:
    from .rules.base import PageCheck

# The checking machinery (markdown-it, tree-sitter, jsonschema, PyJWT) is imported on the first
# page that needs it: a run whose pages all come from the cache, or hold no sample, never loads it.

PAGE_SUFFIXES = (".md", ".markdown", ".mdx")


@dataclass
class PageReport:
    findings: list[Finding]
    unsigned_roles: set[str]
    fixes: list[Fix]  # a freshly signed token for every stale or placeholder token (needs secrets)
    cacheable: bool = True  # False when findings depend on the clock (a token with exp or nbf)
    placeholders: tuple[Span, ...] = ()  # every <oo-jwt> placeholder token of the page


def check_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageReport:
    ctx, findings = _check(page, settings, flows, secrets)
    placeholders = tuple(t.span for t in ctx.extraction.tokens if t.placeholder)
    return PageReport(findings, ctx.unsigned_roles, _fixes(ctx), not ctx.time_dependent, placeholders)


@dataclass
class PageExplanation:
    """What ``oo-jwt explain`` shows of one page: its samples, their pairs and attributions, and
    the findings (as ``check_page`` reports them)."""

    page: Page
    check: "PageCheck"  # extraction, pairs, attributions
    findings: list[Finding]

    def samples_at(self, line: int) -> list:
        """The examples and tokens whose lines (1-based) include ``line``."""
        out = []
        for sample in [*self.check.extraction.examples, *self.check.extraction.tokens]:
            location = self.page.location(sample.span)
            if location.line <= line <= location.end_line:
                out.append(sample)
        return out


def explain_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageExplanation:
    ctx, findings = _check(page, settings, flows, secrets)
    return PageExplanation(page, ctx, findings)


def _check(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]):
    from . import attribution
    from .extract import extract
    from .pairing import pair
    from .rules import FAMILIES
    from .rules.base import PageCheck

    extraction = extract(page, settings.max_json_depth, settings.max_samples_per_page)
    try:
        version = parse_version(extraction.version or settings.version)
    except Exception:  # noqa: BLE001 - an unreadable front-matter version: the run's version
        version = parse_version(settings.version)
    ctx = PageCheck(page, extraction, flows, settings, secrets, version)
    ctx.pairs = pair(extraction)
    ctx.attributions = attribution.attribute(flows, extraction, ctx.pairs)

    raw = [finding for family in FAMILIES for finding in family.check(ctx)]
    findings, seen = [], set()
    for finding in raw:
        if finding.rule in settings.disable or finding in seen:
            continue
        seen.add(finding)
        line = finding.location.line - 1
        if any(s.covers(line, finding.rule) for s in extraction.suppressions):
            continue
        findings.append(finding)
    findings.sort(key=lambda f: (f.location.line, f.location.column, f.rule, f.pointer or ""))
    return ctx, findings


def _fixes(ctx) -> list[Fix]:
    """Regenerated tokens, never signed over an example that is itself wrong.

    Wrong means: it breaks its flow's base schema (a wrong type, value or missing parameter). The
    version rules (from 7.1, every listed editor-config parameter) say what more the example should
    list; they stay reported, but signing over the example as written is still right."""
    from .signing import regenerate
    from .tokens import Malformed, decode

    fixes = []
    for token in ctx.extraction.tokens:
        flow, example = ctx.flow_of(token), ctx.pairs.get(id(token))
        if flow is None or flow.opaque or example is None or example.partial:
            continue  # a partial example (elisions, expressions) cannot be signed over
        secret = ctx.secrets.get(flow.role or "")
        if secret is None or next(ctx.flows.validator(flow, (0,)).iter_errors(example.params), None):
            continue
        line = ctx.page.line_of(token.span.start)
        if any(s.covers(line, "token-payload-mismatch") for s in ctx.extraction.suppressions):
            continue
        actual = None
        if not token.placeholder:
            try:
                actual = decode(token.text).payload
            except Malformed:
                pass
        fix = regenerate(token, actual, example, flow, secret.reveal(), ctx.settings.keep_claims)
        if fix is not None:
            fixes.append(fix)
    return fixes


def page_problem(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding("page-unreadable", Severity.ERROR, path, Location(line, column, line, column), message)


def read_page(path: Path, shown: str, settings: Settings) -> Page | Finding:
    """A page from disk, or the finding that says why it cannot be checked."""
    read = _read(str(path), shown, settings)
    return read if isinstance(read, Finding) else _decode(read[0], shown)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _read(file: str, shown: str, settings: Settings) -> tuple[bytes, Stamp] | Finding:
    """At most ``max_page_bytes`` of a regular file (a FIFO or a device would block or never end:
    opened non-blocking, looked at, and not read), with its stamp as read (``stamps.stamp_of``)."""
    limit = settings.max_page_bytes
    try:
        fd = os.open(file, _OPEN_FLAGS)
        try:
            stat = os.fstat(fd)
            if not S_ISREG(stat.st_mode):
                return page_problem(shown, "not a regular file: not read")
            if stat.st_size > limit:
                return _too_big(shown, stat.st_size, settings)
            # ask for the size the file has (asking for the limit would allocate that much for
            # every page) and one byte more; read on while it grows, up to the limit
            data = os.read(fd, stat.st_size + 1)
            while len(data) <= limit:
                more = os.read(fd, limit + 1 - len(data))
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
    except OSError as exc:
        return page_problem(shown, f"cannot read: {exc.strerror or exc.__class__.__name__}")
    if len(data) > limit:  # grew since it was looked at
        return _too_big(shown, len(data), settings)
    return data, stamp_of(stat)


def _too_big(shown: str, size: int, settings: Settings) -> Finding:
    return page_problem(shown, f"page of {size} bytes or more is over the limit of {settings.max_page_bytes} (max_page_bytes): not checked")


def _decode(data: bytes, shown: str) -> Page | Finding:
    try:
        return Page.from_bytes(shown, data)
    except PageDecodeError as exc:
        return page_problem(shown, str(exc), exc.line, exc.column)


def discover(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(file, path as reported) for every page under the given files and folders, sorted.

    Plain strings (a run over ten thousand pages should not pay for path objects); hidden folders
    are skipped and symbolic links to folders are not followed (no loops)."""
    for file, shown, _ in discover_entries(paths):
        yield file, shown


def discover_entries(paths: Iterable[str], folders: list | None = None) -> Iterator[tuple[str, str, os.DirEntry | None]]:
    """``discover`` with each page's directory entry (None for a file given by name), whose
    ``stat()`` costs less than a ``stat`` of the path. Order as ``os.walk`` top-down with sorted
    names: a folder's pages, then each subfolder's; a folder that cannot be listed is skipped.

    ``folders``, if given, gets [folder, stamp] for every folder walked, the stamp taken before it
    is listed (None if it could not be listed): an entry added since changes it."""
    for given in paths:
        if os.path.isdir(given):
            prefix = given if given.endswith(os.sep) else given + os.sep  # how os.walk joins
            shown_base = "" if given in (".", "./") else given.rstrip("/" + os.sep).replace(os.sep, "/") + "/"
            yield from _walk(prefix, shown_base, folders)
        else:
            yield given, given, None


def _walk(folder: str, shown: str, folders: list | None) -> Iterator[tuple[str, str, os.DirEntry]]:
    todo = [(folder, shown)]  # folders still to list, the next one last (no generator per level)
    while todo:
        folder, shown = todo.pop()
        pages, subfolders = [], []
        if folders is not None:
            folders.append([folder, file_stamp(folder)])
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if _is_dir(entry):  # a link to a folder is neither walked nor a page
                        if not entry.name.startswith(".") and not entry.is_symlink():
                            subfolders.append(entry.name)
                    elif entry.name.lower().endswith(PAGE_SUFFIXES):
                        pages.append(entry)
        except OSError:
            if folders is not None:
                folders[-1][1] = None
            continue
        pages.sort(key=_name)
        for entry in pages:
            yield folder + entry.name, shown + entry.name, entry
        subfolders.sort(reverse=True)
        todo += [(folder + name + os.sep, shown + name + "/") for name in subfolders]


def page_stat(file: str, entry: os.DirEntry | None) -> os.stat_result:
    """The stat of a page as ``discover_entries`` found it (from its directory entry if it has one)."""
    return entry.stat() if entry is not None else os.stat(file)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link to itself: as os.walk, not a folder (and its read says why)
        return False


def _name(entry: os.DirEntry) -> str:
    return entry.name


# A page can hold a sample only if its bytes hold one of these marks (or a flow endpoint at the end
# of a URL path). Each is one regular expression starting with a literal, which the regex engine
# looks for as fast as ``bytes.find`` (a scan of a page for marks it does not hold is most of the
# cost: most pages hold none).
_SAMPLE_MARKS = (
    re.compile(rb"eyJ"),  # a JWT
    re.compile(rb"token(?<=[\"']token)[\"']|token:"),  # a "token" property or key
    re.compile(rb"oo[-_]jwt"),  # a directive, placeholder or front matter of this tool
    re.compile(rb"json(?<=```json|~~~json)|json(?<=``` json)"),  # a json fence
)


def may_hold_samples(data: bytes, flows: FlowRegistry) -> bool:
    """A cheap look at the bytes: can this page hold an example or a token at all?"""
    for mark in _SAMPLE_MARKS:
        if mark.search(data):
            return True
    return flows.endpoint_at_end is not None and flows.endpoint_at_end.search(data) is not None


def check_paths(
    paths: Iterable[str],
    settings: Settings,
    environ=None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Check every page under ``paths``: unchanged pages' findings come from the cache (no read);
    the others are read, looked at cheaply, and parsed only if they can hold a sample, on every
    core (see ``pipeline``). Each page is read once and parsed at most once.

    With a cache, the result also holds its ``stamps``: every input it depends on (flow schemas,
    folders walked, pages), each stamped before it was read, unless it depends on more (the clock,
    a page or folder that could not be read)."""
    from .cache import Cache, run_key

    secrets = secrets_from_env(settings, environ)
    paths = list(paths)
    cache = folders = inputs = None
    if cache_dir is not None:
        started = time.time_ns()
        schema_dirs = [str(d) for d in (bundled_schema_dir(), *settings.flows_dirs)]
        inputs = [[d, file_stamp(d)] for d in schema_dirs]  # a schema added or removed changes its folder
        schema_files = sorted(str(p) for d in schema_dirs for p in Path(d).glob("*.json"))
        inputs += [[p, file_stamp(p)] for p in schema_files]
        cache = Cache(cache_dir, run_key([Path(p) for p in schema_files], repr(settings), secrets))
        cache.load()
        folders = []
    from . import pipeline

    known = cache.known if cache and cache.stats else None  # a cold run has no file to look up
    result = RunResult()
    seen: dict[int, tuple[str, str, list[Finding], Stamp | None]] = {}
    unsigned: set[str] = set()
    recordable = cache is not None  # no page read in vain, none with findings that depend on the clock
    for index, file, shown, findings, roles, keep, content_hash, stamp, _ in pipeline.pages(
        paths, settings, secrets, cache, known, jobs, folders
    ):
        seen[index] = file, shown, findings, stamp
        unsigned |= roles
        if keep == pipeline.NEW and cache:
            cache.put(file, stamp, content_hash, findings, roles)
        elif keep == pipeline.NO:
            recordable = False
    pages = [seen[index] for index in range(len(seen))]
    result.pages = [shown for _, shown, _, _ in pages]
    result.findings = [f for _, _, findings, _ in pages for f in findings]
    result.notices.extend(run_notices(secrets, unsigned))
    if cache:
        cache.save()
        if recordable and all(stamp is not None for _, stamp in folders):
            result.stamps = {"started": started, "inputs": inputs, "folders": folders,
                             "pages": [[file, *stamp] for file, _, _, stamp in pages],
                             "secret_names": sorted({n for names in settings.secret_env.values() for n in names})}
    return result


def internal_error(shown: str, exc: BaseException) -> Finding:
    """A finding for a checker failure: the exception's type only (its text might quote the page)."""
    return Finding("internal-error", Severity.ERROR, shown, Location(1, 1, 1, 1),
                   f"the checker failed on this page ({exc.__class__.__name__}); the other pages were checked")


def run_notices(secrets: dict[str, Secret], unsigned: set[str]) -> list[Notice]:
    notices = []
    if unsigned:
        roles = ", ".join(sorted(r for r in unsigned if r))
        names = ", ".join(f"OO_JWT_SECRET_{r.upper()}" for r in sorted(unsigned) if r)
        notices.append(Notice(Severity.INFO, f"no secret configured for {roles}: signatures not checked (set OO_JWT_SECRET or {names})"))
    for role, secret in sorted(secrets.items()):
        if len(secret.reveal().encode()) < MIN_SECRET_BYTES:
            notices.append(Notice(Severity.WARNING, f"the {role} secret (from {secret.source}) is shorter than {MIN_SECRET_BYTES} bytes"))
    return notices


def exit_code(result: RunResult, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity.WARNING if fail_on == "warning" else Severity.ERROR
    return 1 if any(f.severity >= threshold for f in result.findings) else 0
