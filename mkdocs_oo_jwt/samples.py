"""What extraction finds on a page: examples (payloads), tokens, and the requests around them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .model import Span

PLACEHOLDER = "<oo-jwt>"


@dataclass(frozen=True)
class Header:
    name: str
    value: str
    line: Span  # the whole header line
    value_span: Span


@dataclass
class Request:
    """An HTTP request (or response) written in an http block or a curl command."""

    method: str  # "" for a response
    target: str  # request target as written ("" for a response)
    span: Span  # the request line (or the curl command)
    headers: list[Header] = field(default_factory=list)
    status: int | None = None  # for a response

    @property
    def is_response(self) -> bool:
        return self.status is not None

    def header(self, name: str) -> Header | None:
        return next((h for h in self.headers if h.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Where:
    """Where a sample sits: its block, section and the prose above it (nearest first)."""

    block: int
    section: int
    texts: tuple[str, ...]
    lines: tuple[int, int]  # the block's page lines [first, end)
    flow: str | None = None  # an explicit ``flow=`` directive, or the page's front matter flow
    explicit: bool = False  # the flow comes from a block directive
    nearness: tuple[float, ...] = ()  # how much each of ``texts`` says of the block (1.0: right above it)
    row: bool = False  # the block is one row of a table (a token there signs that row's example)


class SpansOnUse(Mapping):
    """An example's spans (JSON pointer -> Span), worked out by ``work`` when first asked for:
    most examples are never pointed into (no finding, no token in them)."""

    def __init__(self, work: Callable[[], dict[str, Span]]):
        self._work: Callable[[], dict[str, Span]] | None = work
        self._spans: dict[str, Span] = {}

    def _worked(self) -> dict[str, Span]:
        if self._work is not None:
            self._spans, self._work = self._work(), None
        return self._spans

    def __getitem__(self, pointer: str) -> Span:
        return self._worked()[pointer]

    def __contains__(self, pointer: object) -> bool:
        return pointer in self._worked()

    def __iter__(self) -> Iterator[str]:
        return iter(self._worked())

    def __len__(self) -> int:
        return len(self._worked())

    def __repr__(self) -> str:
        return repr(self._worked())


@dataclass
class Example:
    """A payload shown on the page: a JSON block, an HTTP or curl body, an object literal."""

    span: Span
    value: Any
    spans: Mapping[str, Span]  # JSON pointer -> span of that value on the page (a dict, or ``SpansOnUse``)
    where: Where
    source: str  # "json", "http-body", "curl-body", "js"
    request: Request | None = None
    wrapped: bool = False  # shown as the header token's payload: {"payload": {...}}
    token_holder: bool = False  # an object that held a token property (value is the rest)
    response: bool = False  # an HTTP response, or introduced as one ("Response:")
    open: frozenset[str] = frozenset()  # objects with an elision: the token may have more keys there
    unknown: frozenset[str] = frozenset()  # values written as expressions: any value passes
    flow_hint: str | None = None  # the flow named by the call the object is passed to (JS)
    duplicates: tuple[tuple[str, Span], ...] = ()  # (pointer, span of the repeated key)

    @property
    def partial(self) -> bool:
        return bool(self.open or self.unknown)

    @property
    def params(self) -> Any:
        """The request parameters, without a displayed ``payload`` wrapper."""
        return self.value["payload"] if self.wrapped else self.value

    def span_of(self, pointer: str) -> Span:
        """Span of the value at ``pointer``, or of its nearest located ancestor."""
        while pointer not in self.spans and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self.spans.get(pointer, self.span)


@dataclass
class Token:
    """A sample token: found by shape (a JWT) or by place (a token property, an Authorization header)."""

    span: Span
    text: str
    place: str  # "header", "body", "property", "bare", "prose"
    where: Where
    request: Request | None = None
    owner: Example | None = None  # for a "property" token: the object's other properties
    scheme: str | None = None  # the Authorization scheme ("Bearer"), if any

    @property
    def by_place(self) -> bool:
        return self.place in ("header", "body", "property")

    @property
    def placeholder(self) -> bool:
        return self.text == PLACEHOLDER


@dataclass
class Fault:
    """A JSON example that does not parse."""

    span: Span  # where the parser stopped
    message: str
    where: Where


@dataclass(frozen=True)
class Unread:
    """A part of the page that was not checked (a bound on the work was reached), from ``span`` on."""

    span: Span
    reason: str


@dataclass
class Extraction:
    examples: list[Example] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    suppressions: list["Suppression"] = field(default_factory=list)
    version: str | None = None  # from front matter
    unread: list[Unread] = field(default_factory=list)
    misread: list["Misread"] = field(default_factory=list)  # directives that cannot be read
    flow_directives: list[tuple[Span, str]] = field(default_factory=list)  # (directive, flow id) of each flow=
    # the sample-bearing blocks, in order: (the line a directive for the block goes above (a table's
    # first line, for a row), the block's first line, its end, its kind: "code", "prose" or "row")
    blocks: list[tuple[int, int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Suppression:
    """Findings starting on lines [first, end) are dropped (``rules`` empty: every rule).

    ``directive``: the span of the comment that asked for it (several suppressions can come from
    one: a directive above a table holds for each row), so that one that suppresses nothing can be
    reported there. ``whole``: an ``ignore`` of every rule, whose block yields no sample at all."""

    first: int
    end: int
    rules: frozenset[str] = frozenset()
    directive: Span | None = None
    reason: str | None = None
    whole: bool = False
    text: str = ""  # the directive as written, after ``oo-jwt:``

    def covers(self, line: int, rule: str) -> bool:
        return self.first <= line < self.end and (not self.rules or rule in self.rules)


@dataclass(frozen=True)
class Misread:
    """A comment meant for oo-jwt that cannot be read as a directive: reported, never dropped."""

    span: Span
    message: str
