"""The engine: ``check_page`` for one page, ``check_paths`` for a run. The only entry points the
front ends (command, MkDocs plugin, fixer) call; nothing here prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from . import attribution
from .extract import extract
from .flows import FlowRegistry, load_flows, parse_version
from .model import Finding, Fix, Location, Notice, RunResult, Severity
from .page import Page, PageDecodeError
from .pairing import pair
from .rules import FAMILIES
from .rules.base import PageCheck
from .settings import MIN_SECRET_BYTES, Secret, Settings, secrets_from_env
from .signing import regenerate
from .tokens import Malformed, decode

PAGE_SUFFIXES = (".md", ".markdown", ".mdx")


@dataclass
class PageReport:
    findings: list[Finding]
    unsigned_roles: set[str]
    fixes: list[Fix]  # a freshly signed token for every stale or placeholder token (needs secrets)


def check_page(page: Page, settings: Settings, flows: FlowRegistry, secrets: dict[str, Secret]) -> PageReport:
    extraction = extract(page)
    version = parse_version(extraction.version or settings.version)
    ctx = PageCheck(page, extraction, flows, settings, secrets, version)
    for example in extraction.examples:
        ctx.example_flow[id(example)] = attribution.flow_of_example(flows, example, version)
    ctx.pairs = pair(extraction)
    for token in extraction.tokens:
        example = token.owner or ctx.pairs.get(id(token))
        if example is not None and not token.where.explicit:
            flow = ctx.example_flow.get(id(example))
            if flow is None:
                flow = attribution.flow_of_where(flows, token.where, token.request)[0]
        else:
            flow = attribution.flow_of_where(flows, token.where, token.request)[0]
        ctx.token_flow[id(token)] = flow

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
    # fixes look at every schema error, also those disabled or ignored: never sign over a broken example
    return PageReport(findings, ctx.unsigned_roles, _fixes(ctx, raw))


def _fixes(ctx: PageCheck, findings: list[Finding]) -> list[Fix]:
    """Regenerated tokens, never signed over an example that breaks its schema or does not parse."""
    broken = [f.span for f in findings if f.rule in ("schema", "json-syntax") and f.span]
    fixes = []
    for token in ctx.extraction.tokens:
        flow, example = ctx.flow_of(token), ctx.pairs.get(id(token))
        if flow is None or flow.opaque or example is None or example.partial:
            continue  # a partial example (elisions, expressions) cannot be signed over
        secret = ctx.secrets.get(flow.role or "")
        if secret is None or any(example.span.start <= s.start <= example.span.end for s in broken):
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
    try:
        size = path.stat().st_size
        if size > settings.max_page_bytes:
            return page_problem(shown, f"page of {size} bytes is over the limit of {settings.max_page_bytes} (max_page_bytes): not checked")
        data = path.read_bytes()
    except OSError as exc:
        return page_problem(shown, f"cannot read: {exc.strerror or exc.__class__.__name__}")
    try:
        return Page.from_bytes(shown, data)
    except PageDecodeError as exc:
        return page_problem(shown, str(exc), exc.line, exc.column)


def discover(paths: Iterable[str]) -> Iterator[tuple[Path, str]]:
    """(file, path as reported) for every page under the given files and folders, sorted."""
    for given in paths:
        root = Path(given)
        if root.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                found += [Path(dirpath) / f for f in filenames if f.lower().endswith(PAGE_SUFFIXES)]
            for file in sorted(found):
                rel = file.relative_to(root).as_posix()
                yield file, given.rstrip("/\\") + "/" + rel if given not in (".", "./") else rel
        else:
            yield root, given


def check_paths(paths: Iterable[str], settings: Settings, environ=None) -> RunResult:
    flows = load_flows(settings.flows_dirs)
    secrets = secrets_from_env(settings, environ)
    result = RunResult()
    unsigned: set[str] = set()
    for file, shown in discover(paths):
        result.pages.append(shown)
        page = read_page(file, shown, settings)
        if isinstance(page, Finding):
            result.findings.append(page)
            continue
        report = check_page(page, settings, flows, secrets)
        result.findings.extend(report.findings)
        unsigned |= report.unsigned_roles
    result.notices.extend(run_notices(secrets, unsigned))
    return result


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
