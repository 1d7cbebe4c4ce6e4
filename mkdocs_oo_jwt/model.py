"""The data every stage shares: spans, severities, findings and fixes.

Offsets are 0-based character offsets into ``Page.text`` (the decoded page, BOM removed,
line endings kept). Line and column are computed only when a finding is reported.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Unknown:
    """A value an example writes as an expression (``event.data.c``): present, with any value."""

    def __repr__(self) -> str:
        return "<expression>"


UNKNOWN = Unknown()


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:  # "error", "warning", "info"
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> "Severity":
        return cls[name.upper()]


class _Offsets(NamedTuple):
    start: int
    end: int


class Span(_Offsets):
    """Half-open range [start, end) of character offsets in a page's text. The records of this
    module are named tuples, not dataclasses: a warm run imports them before its first page, and a
    dataclass costs that start ten times a named tuple (and ``dataclasses`` imports ``inspect``)."""

    __slots__ = ()

    def __new__(cls, start: int, end: int) -> "Span":
        if not 0 <= start <= end:
            raise ValueError(f"bad span {start}..{end}")
        return super().__new__(cls, start, end)

    def contains(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end


class Fix(NamedTuple):
    """Replace the characters of ``span`` with ``replacement``."""

    span: Span
    replacement: str


class Location(NamedTuple):
    """Where a finding is, as reported: 1-based line and column (in code points)."""

    line: int
    column: int
    end_line: int
    end_column: int


class Suppressed(NamedTuple):
    """How a finding was suppressed: by the directive on ``line`` (1-based), for ``reason`` if it
    gave one (``reason="..."``). A suppressed finding is not a finding of the run: the JSON and
    SARIF reports list it with this."""

    line: int
    reason: str | None = None


class Finding(NamedTuple):
    """One finding. Two findings are equal when they say the same thing at the same place: its
    fix, subject and whether a baseline or a directive holds it are not compared."""

    rule: str
    severity: Severity
    path: str
    location: Location
    message: str
    flow: str | None = None
    pointer: str | None = None
    span: Span | None = None
    fix: Fix | None = None
    # what the finding is about, as a baseline keys it (never its line): a hash of the token's
    # text, of the example's canonical JSON, or of the block's text (``engine``); never the text
    subject: str | None = None
    baselined: bool = False  # in the run's baseline (shown with --show-baselined)
    suppressed: Suppressed | None = None  # by a directive (RunResult.suppressed)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self[:8] == other[:8]  # rule ... span

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:8])

    def as_dict(self) -> dict:
        """The JSON contract of one finding (``--format json``); ``baselined`` only when it is."""
        out = {
            "path": self.path,
            "line": self.location.line,
            "column": self.location.column,
            "end_line": self.location.end_line,
            "end_column": self.location.end_column,
            "rule": self.rule,
            "severity": str(self.severity),
            "flow": self.flow,
            "pointer": self.pointer,
            "message": self.message,
        }
        if self.baselined:
            out["baselined"] = True
        return out


class Notice(NamedTuple):
    """A run-level note that belongs to no page (no secret configured, a short secret...)."""

    severity: Severity
    message: str


class RunResult:
    """Everything a front end needs to report one run."""

    def __init__(self, findings: list[Finding] | None = None, notices: list[Notice] | None = None,
                 pages: list[str] | None = None, fail_on: dict[str, str] | None = None,
                 baselined: int | None = None, stale: int = 0, suppressed: list[Finding] | None = None):
        self.findings = [] if findings is None else findings
        self.notices = [] if notices is None else notices
        self.pages = [] if pages is None else pages  # every page path checked, in order
        # page path -> its own fail_on, where a per-path override gives it one (``exit_code``)
        self.fail_on = {} if fail_on is None else fail_on
        self.baselined = baselined  # findings the baseline holds (None: no baseline used)
        self.stale = stale  # baseline entries of the pages checked that no finding matches any more
        self.suppressed = [] if suppressed is None else suppressed  # what the pages' directives suppressed

    def count(self, severity: Severity) -> int:
        """The findings of ``severity``, not counting baselined ones (shown with --show-baselined)."""
        return sum(1 for f in self.findings if f.severity == severity and not f.baselined)

    def summary(self) -> dict:
        by_rule: dict[str, int] = {}
        for f in self.findings:
            if not f.baselined:
                by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
        baseline = {} if self.baselined is None else {"baselined": self.baselined, "baseline_stale": self.stale}
        return {
            "pages": len(self.pages),
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
            "by_rule": dict(sorted(by_rule.items())),
            "notices": [{"severity": str(n.severity), "message": n.message} for n in self.notices],
            "suppressed": len(self.suppressed),  # findings the pages' directives suppressed
            **baseline,
        }
