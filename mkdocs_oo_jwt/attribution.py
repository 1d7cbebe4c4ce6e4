"""samples -> flows, from evidence: never from whether an example validates.

An example is attributed together with the tokens that sign it (a group); a token that signs no
example is a group of its own. The evidence, in the order it counts:

- certain, the first of these decides: a ``flow=`` directive, the call an object is passed to
  (``docEditor.insertImage(...)``, ``new DocsAPI.DocEditor(...)``), the endpoint of the request
  (http, curl, Python), the page's front matter ``flow``;
- the text the group sits under: its section's own (lead lines inside the block, lead-in
  paragraphs, list items, admonition and tab titles, the section's heading) fully, the k-th
  heading above 1/(1+k) of it: a flow's names
  (identifiers as written, such as ``insertImage``, in any language, in prose, code spans and link
  anchors) and its words (stemmed: open, opening, opened), in prose, headings, heading ids and
  link targets alike;
- the payload: each top-level key of the example and of its tokens' payloads, weighed by how few
  flows know it (nothing for a value of another type than the schema declares), minus as much
  for a key only other flows know and a quarter for a key the flow requires and the
  payload lacks; and the words of its URL values (``url-to-changes.zip``);
- the transport: the request's HTTP method and the token's place (header, body, browser);
- a flow's prior (editor-config over refreshFile, download over changes-download).

A request written as code (curl, Python) with no token and no flow's endpoint is another API's
call: no flow's (the flows' requests are the Docs API's, at its endpoints; a callback is shown as
the HTTP message the Document Server sends, not as code). The best flow is chosen if its score
reaches ``THRESHOLD``; a runner-up closer than
``AMBIGUOUS_MARGIN`` is reported (``flow-ambiguous``). A flow is not chosen for an object unless it
knows at least half of the object's keys (a server config under a "Conversion" heading, a
response that shares a key); a response belongs only to a flow that documents one. An example
for which nothing speaks but its own keys (no token, no request, no text) may be a fragment:
what it lacks is not reported (``Attribution.fragment``).
Everything is data from the schemas' ``x-oo-jwt`` (words, names, prior) and properties, so a
user's own flows are attributed the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from .extract.code import request_path_host
from .flows import Flow, FlowRegistry
from .model import Unknown
from .samples import Example, Extraction, Request, Token, Where
from .signing import has_wrapper
from .tokens import TIME_CLAIMS, Malformed, decode
from .words import names as names_in, stems

THRESHOLD = 3.0
AMBIGUOUS_MARGIN = 1.0
NAME_FACTOR = 2.0  # a flow's name (a method) says more than one of its words
URL_WORD_FACTOR = 0.5
FOREIGN_KEY_FACTOR = -1.0
MISSING_KEY_FACTOR = -0.25
TRANSPORT_FITS, TRANSPORT_DIFFERS = 1.0, -2.0
ELSEWHERE = -4.0  # a request to a path none of the flow's endpoints (a certain match decides before)
CODE_REQUESTS = ("curl-body", "python-body")  # requests written as code (an HTTP message is shown, not run)
MAX_TOKEN_READ = 65536  # a longer token (over any max_token_bytes worth setting) is not read for its keys


@dataclass(frozen=True)
class Evidence:
    flow: str
    kind: str  # certain: directive, call, request, front matter; scored: name, word, key, foreign key,
    # missing key, url word, method, transport, request (to another path), prior
    what: str  # what was seen, as a writer would look for it
    weight: float  # math.inf for certain evidence


@dataclass(frozen=True)
class Attribution:
    flow: Flow | None
    decided_by: str  # a certain kind (directive, call, request, front matter), "evidence", or "" (no flow)
    scores: tuple[tuple[str, float], ...] = ()  # the flows that could be chosen, best first
    evidence: tuple[Evidence, ...] = ()
    fragment: bool = False  # only the example's own keys speak for the flow

    @property
    def runner_up(self) -> tuple[str, float] | None:
        if self.decided_by != "evidence" or len(self.scores) < 2:
            return None
        return self.scores[1]

    @property
    def ambiguous(self) -> bool:
        second = self.runner_up
        # (a prior of AMBIGUOUS_MARGIN settles a tie: scores are sums of floats, hence the tolerance)
        return second is not None and second[1] > 0 and self.scores[0][1] - second[1] < AMBIGUOUS_MARGIN - 1e-6

    @property
    def best(self) -> tuple[str, float] | None:
        return self.scores[0] if self.scores else None

    def evidence_for(self, flow_id: str) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.flow == flow_id)


NONE = Attribution(None, "")


def attribute(
    flows: FlowRegistry, extraction: Extraction, pairs: dict[int, Example | None]
) -> dict[int, Attribution]:
    """id(example, token or fault) -> its attribution. A token that signs an example has its
    example's: a directive right above the token names the flow of both, as one above the example
    does; unless the two directives name different flows (then each has its own). A JSON example
    that does not parse (a fault) has the flow its place says."""
    signers: dict[int, list[Token]] = {}
    owners: dict[int, Example] = {}
    for token in extraction.tokens:
        example = pairs.get(id(token))
        if example is not None and _together(token, example):
            signers.setdefault(id(example), []).append(token)
            owners[id(example)] = example
    out: dict[int, Attribution] = {}
    listed = {id(example) for example in extraction.examples}
    nested = [example for key, example in owners.items() if key not in listed]  # a token's object inside an example
    for example in [*extraction.examples, *nested]:
        out[id(example)] = attribute_group(flows, example, signers.get(id(example), ()))
    for token in extraction.tokens:
        example = pairs.get(id(token))
        if example is not None and _together(token, example):
            out[id(token)] = out[id(example)]
        else:
            out[id(token)] = attribute_group(flows, None, (token,))
    for fault in extraction.faults:
        out[id(fault)] = attribute_group(flows, None, (), fault.where)
    return out


def _together(token: Token, example: Example) -> bool:
    """Are a token and the example it signs given a flow together? Unless each has a directive of
    its own, naming different flows."""
    return not (token.where.explicit and example.where.explicit and token.where.flow != example.where.flow)


def attribute_group(
    flows: FlowRegistry, example: Example | None, tokens: Iterable[Token], where: Where | None = None
) -> Attribution:
    """The attribution of an example and the tokens that sign it, of a token alone, or of a place
    alone (``where``: what a JSON example that does not parse still says)."""
    tokens = tuple(tokens)
    certain = _certain(flows, example, tokens, where)
    if certain:
        kind, flow_id, what = certain[0]
        evidence = tuple(Evidence(f, k, w, math.inf) for k, f, w in certain)
        flow = flows.get(flow_id)
        return Attribution(flow, kind, ((flow_id, math.inf),) if flow else (), evidence)
    return _scored(flows, example, tokens, where)


# ------------------------------------------------------------------ certain evidence


def _certain(
    flows: FlowRegistry, example: Example | None, tokens: tuple[Token, ...], where: Where | None
) -> list[tuple[str, str, str]]:
    """(kind, flow id, what) of every certain piece of evidence, the deciding one first."""
    found: list[tuple[str, str, str]] = []
    wheres = [example.where] if example is not None else [t.where for t in tokens] + ([where] if where else [])
    directed = [*wheres, *(t.where for t in tokens if t.where.explicit)] if example is not None else wheres
    for place in directed:  # a directive above the example, or above a token that signs it
        if place.explicit and place.flow:
            found.append(("directive", place.flow, f"<!-- oo-jwt: flow={place.flow} -->"))
    if example is not None and example.flow_hint and flows.get(example.flow_hint):
        found.append(("call", example.flow_hint, _call_text(example.flow_hint)))
    for request in _requests(example, tokens):
        flow = by_request(flows, request)
        if flow is not None:
            found.append(("request", flow.id, f"{request.method} {request.target}".strip()))
    for place in wheres:
        flow = flows.get(place.flow) if not place.explicit else None
        if flow is not None and _shares_a_key(flow, example):
            found.append(("front matter", flow.id, f"oo_jwt: {{flow: {flow.id}}}"))
    return found


def _shares_a_key(flow: Flow, example: Example | None) -> bool:
    """Does the example look like the flow's payload at all (an object with one of its keys)? A
    page's default flow is not the flow of every JSON on it (a server config, a response)."""
    if example is None or not flow.known_keys:
        return True
    params = example.params
    return isinstance(params, dict) and (not params or any(key in flow.known_keys for key in params))


def _call_text(flow_id: str) -> str:
    return "new DocsAPI.DocEditor(...)" if flow_id == "editor-config" else f"docEditor.{flow_id}(...)"


def _requests(example: Example | None, tokens: tuple[Token, ...]) -> list[Request]:
    out: list[Request] = []
    for request in [example.request if example is not None else None, *(t.request for t in tokens)]:
        if request is not None and not request.is_response and all(request is not r for r in out):
            out.append(request)
    return out


def by_request(flows: FlowRegistry, request: Request | None) -> Flow | None:
    """The flow whose endpoint the request's path ends with (in any case, trailing slashes aside)."""
    if request is None or request.is_response:
        return None
    path = request_path_host(request)[0].lower().rstrip("/")
    if not path:
        return None
    if not path.startswith("/"):
        path = "/" + path
    for flow in flows.flows.values():
        for endpoint in flow.endpoints:
            if path.endswith(endpoint.lower().rstrip("/")):
                return flow
    return None


# ------------------------------------------------------------------ scored evidence


@dataclass
class _Tally:
    evidence: list[Evidence] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    spoken: set[str] = field(default_factory=set)  # flows something besides the payload speaks for

    def add(self, flow: str, kind: str, what: str, weight: float) -> None:
        if weight:
            self.evidence.append(Evidence(flow, kind, what, weight))
            self.scores[flow] = self.scores.get(flow, 0.0) + weight


def _scored(flows: FlowRegistry, example: Example | None, tokens: tuple[Token, ...], where: Where | None) -> Attribution:
    vocabulary = flows.vocabulary
    tally = _Tally()
    _context(tally, vocabulary, example, tokens, where)
    response = example is not None and (example.response or not tokens and _response_shaped(example, vocabulary))
    keys = {} if response else _keys(example, tokens)
    candidates = [f for f in flows.flows.values() if _eligible(f, example, response, keys, tally, vocabulary.key_weight, tokens)]
    if keys:
        _payload(tally, candidates, vocabulary, keys, example)
    if not response:
        _transport(tally, candidates, example, tokens)
    eligible = []
    for flow in candidates:
        if flow.prior and flow.id in tally.scores:
            tally.add(flow.id, "prior", "the flow this shape means when nothing else tells", flow.prior)
        eligible.append((flow.id, round(tally.scores.get(flow.id, 0.0), 6)))
    eligible = [e for e in eligible if e[1] > 0]
    eligible.sort(key=lambda item: (-item[1], item[0]))
    evidence = tuple(tally.evidence)
    if not eligible or eligible[0][1] < THRESHOLD:
        return Attribution(None, "", tuple(eligible), evidence)
    best = eligible[0][0]
    fragment = example is not None and not tokens and example.request is None and best not in tally.spoken
    return Attribution(flows.get(best), "evidence", tuple(eligible), evidence, fragment)


def mark_responses(extraction: Extraction, vocabulary) -> None:
    """An example holding a key that only responses have (``{"error": 0}``, ``"endConvert"``), and
    no token of its own, is a response, in whatever words (and language) it is introduced: marked so
    before tokens are paired (a token above it signs the request before it, not the response) and
    before its schema is checked (a response's, where the flow documents one)."""
    for example in extraction.examples:
        if not example.response and not example.token_holder and _response_shaped(example, vocabulary):
            example.response = True


def _response_shaped(example: Example, vocabulary) -> bool:
    """Does the example hold a key that only responses have (and no request of any flow)?"""
    params = example.params
    return isinstance(params, dict) and not vocabulary.response_only.isdisjoint(params)


def _context(
    tally: _Tally, vocabulary, example: Example | None, tokens: tuple[Token, ...], alone: Where | None
) -> None:
    """The names and words of the texts above the group: each name or word once, where it is nearest."""
    nearest: dict[str, float] = {}  # text -> how much it says of the group
    wheres = [*([example.where] if example is not None else []), *(t.where for t in tokens), *([alone] if alone else [])]
    for where in wheres:
        for i, text in enumerate(where.texts):
            near = where.nearness[i] if i < len(where.nearness) else 1 / (1 + i)
            nearest[text] = max(nearest.get(text, 0.0), near)
    best: dict[tuple[str, str, str], tuple[float, str]] = {}  # (flow, kind, name or stem) -> (weight, text)
    for text, near in sorted(nearest.items(), key=lambda item: -item[1]):
        for name in names_in(text) & vocabulary.all_names:
            for flow_id in vocabulary.name_flows[name]:
                best.setdefault((flow_id, "name", name), (vocabulary.name_weight[name] * NAME_FACTOR * near, text))
        for stem in stems(text, vocabulary.all_stems):
            for flow_id in vocabulary.stem_flows[stem]:
                best.setdefault((flow_id, "word", stem), (vocabulary.stem_weight[stem] * near, text))
    for (flow_id, kind, word), (weight, text) in sorted(best.items(), key=lambda item: (item[0][0], -item[1][0], item[0][2])):
        tally.add(flow_id, kind, f"{word!r} in {_excerpt(text)}", weight)
        tally.spoken.add(flow_id)


def _excerpt(text: str, width: int = 60) -> str:
    one_line = " ".join(text.split())
    return repr(one_line if len(one_line) <= width else one_line[: width - 1] + "…")


def _keys(example: Example | None, tokens: tuple[Token, ...]) -> dict[str, Any]:
    """The top-level keys of the example's parameters and of its tokens' payloads (unwrapped)."""
    keys: dict[str, Any] = {}
    if example is not None and isinstance(example.params, dict):
        keys.update(example.params)
    for token in tokens:
        payload = _payload_of(token)
        for key, value in payload.items():
            if key not in TIME_CLAIMS:
                keys.setdefault(key, value)
    return keys


def _payload_of(token: Token) -> dict:
    """The parameters a token signs (a header token's unwrapped), if it can be read."""
    if token.placeholder or len(token.text) > MAX_TOKEN_READ:
        return {}
    try:
        payload = decode(token.text).payload
    except Malformed:
        return {}
    return payload["payload"] if has_wrapper(payload) else payload


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _fits(value: Any, declared: tuple[str, ...]) -> bool:
    return isinstance(value, Unknown) or any(_TYPES.get(t, lambda v: True)(value) for t in declared)


def _payload(tally: _Tally, flows: list[Flow], vocabulary, keys: dict[str, Any], example: Example | None) -> None:
    open_root = example is not None and "" in example.open
    url_stems = _url_stems(keys, vocabulary.all_stems)
    for flow in flows:
        declared = vocabulary.types[flow.id]
        for key, value in keys.items():
            weight = vocabulary.key_weight.get(key)
            if weight is None:
                continue  # no flow knows it: it says nothing
            if key in flow.known_keys:
                if key in declared and not _fits(value, declared[key]):
                    continue  # a value of another type than the flow's: the key says nothing
                tally.add(flow.id, "key", repr(key), weight)
            else:
                tally.add(flow.id, "foreign key", f"{key!r} (a key of other flows)", weight * FOREIGN_KEY_FACTOR)
        if not open_root:
            for key in sorted(flow.required_keys - keys.keys()):
                tally.add(flow.id, "missing key", f"{key!r} (required, absent)", vocabulary.key_weight.get(key, 0) * MISSING_KEY_FACTOR)
        for stem, shown in sorted(url_stems.items()):
            if stem in vocabulary.stems[flow.id]:
                tally.add(flow.id, "url word", f"{stem!r} in {shown}", vocabulary.stem_weight[stem] * URL_WORD_FACTOR)


def _url_stems(keys: dict[str, Any], among: frozenset[str]) -> dict[str, str]:
    """Stems of the paths of URL values (top level and one level down), with the value they come from."""
    found: dict[str, str] = {}
    values = list(keys.values())
    values += [v for value in keys.values() if isinstance(value, dict) for v in value.values()]
    for value in values:
        if isinstance(value, str) and ("://" in value or value.startswith("/")) and len(value) < 2048:
            path = value.split("://", 1)[-1].partition("/")[2] if "://" in value else value
            for stem in stems(path, among):
                found.setdefault(stem, repr(value if len(value) <= 60 else value[:59] + "…"))
    return found


def _transport(tally: _Tally, flows: list[Flow], example: Example | None, tokens: tuple[Token, ...]) -> None:
    """The HTTP method of the request and the place of the tokens."""
    methods = sorted({r.method for r in _requests(example, tokens) if r.method})
    places = set()
    for token in tokens:
        if token.place == "header":
            places.add("header")
        elif token.place == "body":
            places.add("body")
        elif token.place == "property" and token.owner is not None and token.owner.source == "js":
            places.add("browser")
        elif token.place == "property" and token.request is not None:
            places.add("body")
    if example is not None and example.wrapped:
        places.add("header")
    paths = [request_path_host(r)[0] for r in _requests(example, tokens)]
    for flow in flows:
        # a request sent to a path that is none of the flow's endpoints is another API's (an
        # opaque token, not signed over the request, is carried to any path)
        for path in paths if flow.endpoints and not flow.opaque else ():
            if path.strip("/"):
                tally.add(flow.id, "request", f"sent to {path!r}, none of its endpoints", ELSEWHERE)
        # the method of the request a token signs; an opaque token (Workspace) signs nothing and
        # is then carried by requests of any method
        for method in methods if not flow.opaque else ():
            fits = method in flow.methods
            tally.add(flow.id, "method", f"{method} request", TRANSPORT_FITS if fits else TRANSPORT_DIFFERS)
        for place in sorted(places):
            fits = place in flow.transports
            tally.add(flow.id, "transport", f"token in the {place}", TRANSPORT_FITS if fits else TRANSPORT_DIFFERS)


def _eligible(
    flow: Flow, example: Example | None, response: bool, keys: dict[str, Any], tally: _Tally, known: dict,
    tokens: tuple[Token, ...] = (),
) -> bool:
    """Can the group be this flow at all? Something must speak for it besides the transport: the
    text above, or the payload's keys. The flow must know one of the payload's keys, and at least
    half of them (of those that any flow knows, if the text names the flow): a config or a
    response that shares a key or two is not a request of the flow. A value that is not an object is no
    flow's; a response belongs only to a flow that documents one."""
    if example is not None and (not isinstance(example.params, dict) or response and not flow.response):
        return False
    if example is not None and example.source in CODE_REQUESTS and not tokens:
        return False  # a request in code, with no token, to no flow's endpoint: another API's call
    if not keys or not flow.known_keys:
        return flow.id in tally.spoken
    shared = sum(1 for key in keys if key in flow.known_keys)
    if flow.id in tally.spoken:  # the text names it: keys no flow knows say nothing
        return shared > 0 and shared * 2 >= sum(1 for key in keys if key in known)
    # the keys alone: they must be mostly the flow's and, for an example that is nothing else (no
    # token, no request: maybe a fragment), hold one it requires (its core: a conversion's
    # outputtype, not only the title any API has)
    core = not flow.required_keys or not flow.required_keys.isdisjoint(keys) or tokens or (example is not None and example.request is not None)
    return shared > 0 and shared * 2 >= len(keys) and bool(core)


def closest(attribution: Attribution) -> str:
    """The best-scoring flows, for a message: "closest: command 2.1, insertImage 2.1"."""
    if not attribution.scores:
        return "no flow fits both its keys and the text above it"
    shown = ", ".join(f"{flow} {score:.1f}" for flow, score in attribution.scores[:3])
    return f"closest: {shown}, below {THRESHOLD:.0f}"
