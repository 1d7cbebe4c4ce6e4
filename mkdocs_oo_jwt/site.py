"""What a site build does with a page's report, whichever front end runs in the build: the MkDocs
plugin (MkDocs 1.x, ProperDocs) or the Python-Markdown extension (Zensical, or any Python-Markdown
host). One wording and one severity-to-level rule for both, so a finding reads the same whichever
generator built the site; what each generator hands over (a page object, or only the text) stays
in its front end.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .flows import ROLES
from .report.text import one_line
from .samples import PLACEHOLDER
from .settings import Settings, env_hint

if TYPE_CHECKING:
    from .engine import PageReport
    from .model import Finding, Fix, Severity, Span

# The Python-Markdown extension's name in a generator's ``markdown_extensions`` (a string, so that
# the plugin can recognise the extension without importing it: nothing imports a front end).

REGENERATED_NOTE = " (the built page has a freshly signed token; `oo-jwt fix` updates the source)"
UNFILLED = (
    f"placeholder {PLACEHOLDER} left in the built page: no token could be signed for it "
    "(no secret for its flow's role, no known flow, or no valid example to sign)"
)


def log_level(severity: Severity, fail_on: str) -> int:
    """The logging level of a finding: WARNING for what ``fail_on`` fails on (MkDocs' --strict counts
    warnings), INFO for the rest of errors and warnings, DEBUG for infos."""
    name = str(severity)
    if name == "error":
        return logging.INFO if fail_on == "never" else logging.WARNING
    if name == "warning":
        return logging.WARNING if fail_on == "warning" else logging.INFO
    return logging.DEBUG


def fails(severity: Severity, fail_on: str) -> bool:
    """Does a finding of this severity reach ``fail_on``?"""
    return fail_on != "never" and (str(severity) == "error" or (fail_on == "warning" and str(severity) == "warning"))


def finding_text(finding: Finding, *, regenerated: bool = False, where: str | None = None) -> str:
    """``path:line:col: rule [flow] message`` (``where`` in place of ``path:line:col`` when the page
    has no path). ``regenerated``: the built page shows a freshly signed token but the source stays
    stale, still a finding (a broken token must fail the build), with the way to fix the source."""
    loc = finding.location
    flow = f" [{one_line(finding.flow)}]" if finding.flow is not None else ""
    at = where if where is not None else f"{one_line(finding.path)}:{loc.line}:{loc.column}"
    text = f"{at}: {finding.rule}{flow} {one_line(finding.message)}"
    return text + REGENERATED_NOTE if regenerated else text


def regenerated(finding: Finding, fixes: list[Fix]) -> bool:
    """Is the finding's token one the build replaced by a freshly signed one?"""
    return finding.span is not None and any(f.span.contains(finding.span) for f in fixes)


def unfilled(report: PageReport) -> list[Span]:
    """The placeholders of a page that no fix fills (no secret for the role, no flow, no example)."""
    filled = {f.span for f in report.fixes}
    return [span for span in report.placeholders if span not in filled]


def names_hint(settings: Settings, roles=ROLES) -> str:
    """The environment variables to set for ``roles`` (the ones they share first), as a build's
    error says it: names only, never a value."""
    env = settings.secret_env
    counts: dict[str, int] = {}
    for role in ROLES:
        for name in env.get(role, ()):
            counts[name] = counts.get(name, 0) + 1
    names = sorted(counts, key=lambda n: -counts[n])
    shared = [n for n in names if all(n in env.get(r, ()) for r in roles)]
    own = [n for n in names if n not in shared and any(n in env.get(r, ()) for r in roles)]
    if shared and own:
        return f"{' or '.join(shared)} (or, for one role, {', '.join(own)})"
    if shared or own:
        return " or ".join(shared or own)
    return "a secret under plugins.oo-jwt.secrets: " + ", ".join(f"{r}: {env_hint(r)}" for r in roles)


def no_secret_message(settings: Settings) -> str:
    """Why a build in mode regenerate stops before its first page: no secret at all."""
    return ("oo-jwt: mode: regenerate signs sample tokens and needs a secret, but none is set: "
            f"set {names_hint(settings)} in the environment")


def roles_without_secret_message(settings: Settings, roles: list[str], left: list[str]) -> str:
    """Why a build in mode regenerate fails: ``roles`` have no secret, and ``left`` says what was
    left unsigned (tokens on which pages, placeholders where)."""
    return (f"oo-jwt: mode: regenerate needs a secret for the {', '.join(roles)} role{'s' if len(roles) > 1 else ''} "
            f"({'; '.join(left)}): set {names_hint(settings, roles)} in the environment")


def normalise(text: str) -> str:
    """Newlines as a generator hands a page to Python-Markdown (text mode: universal newlines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
