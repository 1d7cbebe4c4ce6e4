"""A check over files and folders: ``check_paths`` (every page through ``pipeline``, findings from
the ``cache`` for unchanged pages), the run's notices and its exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..flows import ROLES, bundled_schema_dir
from ..model import Finding, Notice, RunResult, Severity
from ..settings import MIN_SECRET_BYTES, Secret, Settings, for_file, secrets_from_env



def check_paths(
    paths: Iterable[str],
    settings: Settings,
    environ=None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Check every page under ``paths``: unchanged pages' findings come from the cache (no read);
    the others are read, looked at cheaply, and parsed only if they can hold a sample, on every
    core (see ``pipeline``). Each page is read once and parsed at most once."""
    from . import pipeline
    from .checker import NEW, NO
    from .cache import Cache, run_key, settings_text

    secrets = secrets_from_env(settings, environ)
    paths = list(paths)
    cache = None
    if cache_dir is not None:
        schema_dirs = [bundled_schema_dir(), *settings.flows_dirs]
        schema_files = sorted(p for d in schema_dirs for p in Path(d).glob("*.json"))
        cache = Cache(cache_dir, run_key(schema_files, settings_text(settings), secrets))
    run = pipeline.Run(settings, secrets, jobs, likely_warm=cache is not None and cache.saved())
    try:
        if cache is not None:
            cache.load()
        known = cache.known if cache and cache.stats else None  # a cold run has no file to look up
    except BaseException:
        run.close()
        raise
    seen: dict[int, tuple[str, list[Finding]]] = {}
    unsigned: set[str] = set()
    kept: set[str] = set()  # the pages the cache answers for after this run
    fail_on: dict[str, str] = {}
    overrides = bool(settings.overrides)  # (ten thousand pages pass through this loop)
    for index, file, shown, findings, roles, keep, content_hash, stamp, _, notes in run.pages(paths, cache, known):
        seen[index] = shown, findings
        if overrides:
            note_fail_on(fail_on, settings, file, shown)
        if roles:
            unsigned |= roles
        if cache is not None and keep != NO:
            kept.add(file)
            if keep == NEW:
                cache.put(file, stamp, content_hash, findings, roles, notes)
    unwritten = None
    if cache is not None:
        cache.prune(paths, kept)  # what is gone from this run's folders goes from the cache
        unwritten = cache.save()
    pages = [seen[index] for index in range(len(seen))]
    found = [f for _, findings in pages for f in findings]
    result = RunResult(pages=[shown for shown, _ in pages], findings=[f for f in found if f.suppressed is None],
                       suppressed=[f for f in found if f.suppressed is not None],
                       fail_on=fail_on)
    result.notices.extend(run_notices(secrets, unsigned))
    if unwritten is not None:  # said, not failed: the next run is only slower
        result.notices.append(Notice(Severity.INFO, f"the cache could not be written in {cache.folder} ({unwritten}): "
                                                    "the next run checks every page again"))
    return result


def run_notices(secrets: dict[str, Secret], unsigned: set[str]) -> list[Notice]:
    notices = []
    if unsigned:
        roles = ", ".join(sorted(r for r in unsigned if r))
        names = ", ".join(f"OO_JWT_SECRET_{r.upper()}" for r in sorted(unsigned) if r)
        notices.append(Notice(Severity.INFO, f"no secret configured for {roles}: signatures not checked (set OO_JWT_SECRET or {names})"))
    # One warning per secret, however many roles share it (OO_JWT_SECRET serves all three).
    short: dict[str, list[str]] = {}  # where a short secret comes from -> the roles it signs for
    for role in ROLES:
        secret = secrets.get(role)
        if secret is not None and len(secret.reveal().encode()) < MIN_SECRET_BYTES:
            short.setdefault(secret.source, []).append(role)
    for source, roles in sorted(short.items()):
        named = " and ".join(filter(None, (", ".join(roles[:-1]), roles[-1])))
        notices.append(Notice(Severity.WARNING, f"the secret from {source} ({named} role{'s' if len(roles) > 1 else ''}) "
                              f"is shorter than {MIN_SECRET_BYTES} bytes"))
    return notices


def note_fail_on(fail_on: dict[str, str], settings: Settings, file: str, shown: str) -> None:
    """Note a page's own fail_on (``RunResult.fail_on``), where a per-path override gives it one."""
    own = for_file(settings, file).fail_on
    if own != settings.fail_on:
        fail_on[shown] = own


def fails(severity: Severity, fail_on: str) -> bool:
    """Does a finding of ``severity`` reach ``fail_on``?"""
    return fail_on != "never" and severity >= (Severity.WARNING if fail_on == "warning" else Severity.ERROR)


def exit_code(result: RunResult, fail_on: str) -> int:
    """1 when a finding that is not baselined reaches its page's fail_on (``result.fail_on``, set by
    a per-path override) or else the run's ``fail_on``; 0 otherwise."""
    return 1 if any(not f.baselined and fails(f.severity, result.fail_on.get(f.path, fail_on))
                    for f in result.findings) else 0
