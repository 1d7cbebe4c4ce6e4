"""What a site build does with a page's report, whichever front end runs in the build: the MkDocs
plugin (MkDocs 1.x, ProperDocs) or the Python-Markdown extension (Zensical, or any Python-Markdown
host). One wording and one severity-to-level rule for both, so a finding reads the same whichever
generator built the site; what each generator hands over (a page object, or only the text) stays
in its front end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .flows import ROLES
from .report.common import plural
from .report.text import one_line
from .samples import PLACEHOLDER
from .settings import Settings, env_hint

if TYPE_CHECKING:
    from .engine import PageReport
    from .model import Finding, Fix, Location, Severity, Span
    from .page import Page
    from .run.background import Checked

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


PLUGIN_OPTIONS = "plugins.oo-jwt"  # where the plugin's options are written (mkdocs.yml)


def names_hint(settings: Settings, roles=ROLES, options: str = PLUGIN_OPTIONS) -> str:
    """The environment variables to set for ``roles`` (the ones they share first), as a build's
    error says it: names only, never a value. Where no variable is named for them, how to name
    one where the options are written (``options``: the plugin's section, or the extension's
    entry in mkdocs.yml or table in a zensical.toml, which has no ``!ENV``: ``secret_env``)."""
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
    if options.endswith(".toml"):
        named = ", ".join(f'{r} = ["OO_JWT_SECRET_{r.upper()}"]' for r in roles)
        return f"a variable that {options} names (secret_env = {{ {named} }})"
    return f"a secret under {options}.secrets: " + ", ".join(f"{r}: {env_hint(r)}" for r in roles)


def no_secret_message(settings: Settings, options: str = PLUGIN_OPTIONS) -> str:
    """Why a build in mode regenerate stops before its first page: no secret at all."""
    return ("oo-jwt: mode: regenerate signs sample tokens and needs a secret, but none is set: "
            f"set {names_hint(settings, options=options)} in the environment")


def needed_roles(unsigned, secrets) -> list[str]:
    """The roles whose tokens went unsigned for want of a secret: mode regenerate fails on them."""
    return sorted(r for r in unsigned if r and r not in secrets)


def roles_without_secret_message(settings: Settings, roles: list[str], left: list[str],
                                 options: str = PLUGIN_OPTIONS) -> str:
    """Why a build in mode regenerate fails: ``roles`` have no secret, and ``left`` says what was
    left unsigned (tokens on which pages, placeholders where)."""
    return (f"oo-jwt: mode: regenerate needs a secret for the {', '.join(roles)} role{'s' if len(roles) > 1 else ''} "
            f"({'; '.join(left)}): set {names_hint(settings, roles, options)} in the environment")


def normalise(text: str) -> str:
    """Newlines as a generator hands a page to Python-Markdown (text mode: universal newlines)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def spot(location: Location, path: str, label: str | None = None) -> str:
    """Where on a page: ``path:line:col``, or for a page named without a path (``label``, the
    extension's heading-and-hash name) ``label, body line L, column C``."""
    if label is not None:
        return f"{label}, body line {location.line}, column {location.column}"
    return f"{one_line(path)}:{location.line}:{location.column}"


def unfilled_spots(doc: Page, report: PageReport, label: str | None = None) -> list[str]:
    """Where each placeholder is that the build leaves unfilled (see ``unfilled``)."""
    return [spot(doc.location(span), doc.path, label) for span in unfilled(report)]


def unfilled_message(where: str) -> str:
    return f"{where}: {UNFILLED}"


def findings_of(checked: Checked, shown: str, debug: Callable[[str], None]) -> tuple[list[Finding], PageReport | None]:
    """A checked page as a front end logs it: the page's own problem (unreadable, too large), or the
    checker's failure (an internal-error finding naming the exception's class only, as the command
    reports it: its text may quote the page or a secret; the frames go to ``debug``), else no
    finding yet and the page's report."""
    if checked.problem is not None:
        return [checked.problem], None
    if checked.failure is not None:
        finding, frames = checked.failure
        debug(f"{one_line(shown)}: where the checker failed (its message left out):\n{frames}")
        return [finding], None
    return [], checked.report


@dataclass
class Tally:
    """What a build's summary counts."""

    counts: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    pages: int = 0
    tokens: int = 0  # sample tokens of the pages checked, placeholders included
    placeholders: int = 0
    filled: int = 0  # placeholders given a signed token in the built pages (mode regenerate)
    resigned: int = 0  # stale tokens replaced by a freshly signed one in the built pages
    gated: bool = False  # the pages' findings were matched against a baseline (option baseline)
    baselined: int = 0  # findings the baseline holds (not counted above: they do not fail)
    stale: int = 0  # baseline entries of the pages checked that no finding matches any more

    def add(self, other: Tally) -> None:
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        self.pages += other.pages
        self.tokens += other.tokens
        self.placeholders += other.placeholders
        self.filled += other.filled
        self.resigned += other.resigned
        self.gated = self.gated or other.gated
        self.baselined += other.baselined
        self.stale += other.stale


def summary_line(tally: Tally, regenerate: bool) -> str:
    """A build's last line (logged with the "oo-jwt: " prefix), each number saying what it counts:
    findings by severity; the pages, and the sample tokens and placeholders they hold; in mode
    regenerate, what the built pages got (the other tokens were right as written); in mode verify,
    the placeholders the built pages show as written; with a baseline, what it held and what of it
    is stale."""
    counts = ", ".join(plural(tally.counts.get(k, 0), k) for k in ("error", "warning", "info"))
    held = [plural(tally.tokens - tally.placeholders, "sample token")]
    if tally.placeholders:
        held.append(plural(tally.placeholders, "placeholder"))
    line = f"{counts} in {plural(tally.pages, 'page')} ({', '.join(held)})"
    if regenerate:
        line += (f"; in the built pages {plural(tally.filled, 'placeholder')} filled and "
                 f"{plural(tally.resigned, 'token')} re-signed")
    elif tally.placeholders:  # never silent: readers of the built pages see them as written
        line += (f"; {plural(tally.placeholders, 'placeholder')} left as {PLACEHOLDER} in the built "
                 "pages (mode: regenerate fills them)")
    if tally.gated:
        line += (f"; baseline: {plural(tally.baselined, 'finding')} baselined, "
                 f"{tally.stale} {'entry' if tally.stale == 1 else 'entries'} stale"
                 + (" (no finding matches them any more: oo-jwt check --update-baseline removes them)"
                    if tally.stale else ""))
    return line
