"""The flow registry: one JSON Schema per flow, with the flow's facts under ``x-oo-jwt``.

Schemas load into one ``referencing`` registry (so they can share ``common.json``) with no
retrieve function: a ``$ref`` to anything not loaded is an error, never a fetch. A user's flows
folder adds flows or overrides bundled ones by flow id.
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from . import remembered

ROLES = ("inbox", "outbox", "browser")
TRANSPORTS = ("header", "body", "browser")
MAX_OUTCOMES = 1024  # schema outcomes a registry keeps for examples met again (a few MB at most)


class FlowsError(Exception):
    """A flows folder or schema that cannot be used (a configuration error)."""


class Flow(NamedTuple):
    id: str
    role: str | None
    token: str  # "jwt" or "opaque"
    transports: tuple[str, ...]
    endpoints: tuple[str, ...]
    methods: tuple[str, ...]
    words: tuple[str, ...]  # words that name the flow in prose, headings and link targets (any form)
    names: frozenset[str]  # identifiers that name it as written (a method name), in any language
    since: tuple[tuple[tuple[int, ...], str], ...]  # (version, "#/$defs/...") applied from that version on
    response: str | None
    schema_id: str
    known_keys: frozenset[str]
    required_keys: frozenset[str] = frozenset()  # top-level properties the base schema requires
    key_types: tuple[tuple[str, tuple[str, ...]], ...] = ()  # top-level property -> its declared JSON types
    prior: float = 0.0  # the flow a shared shape means when no evidence tells (editor-config over refreshFile)
    response_keys: frozenset[str] = frozenset()  # top-level keys of the flow's documented responses
    alg: str = "HS256"

    @property
    def opaque(self) -> bool:
        return self.token != "jwt"


def parse_version(text: str | None) -> tuple[int, ...]:
    """'7.1' -> (7, 1); None or 'latest' -> a version later than any."""
    if text is None or str(text).strip().lower() in ("", "latest"):
        return (10**6,)
    parts = re.findall(r"\d+", str(text))
    if not parts:
        raise FlowsError(f"cannot read version {text!r}: use a number such as \"7.1\" or \"latest\"")
    return tuple(int(p) for p in parts)


def bundled_schema_dir() -> Path:
    """The schemas shipped with the package (installed), or the checkout's top-level schemas/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "common.json").is_file():
            return candidate
    raise FlowsError("the bundled flow schemas are missing from this installation")


class FlowRegistry:
    def __init__(self, extra_dirs: tuple[Path, ...] = ()):
        schemas: dict[str, tuple[dict, Path]] = {}  # $id -> schema
        flows: dict[str, tuple[dict, Path]] = {}  # flow id -> schema
        bundled = self.bundled_dir = bundled_schema_dir()
        for folder in (bundled, *extra_dirs):
            if not folder.is_dir():
                raise FlowsError(f"{folder}: flows folder not found")
            for path in sorted(folder.glob("*.json")):
                schema = _load(path)
                schema_id = schema.get("$id")
                if not isinstance(schema_id, str) or not schema_id:
                    raise FlowsError(f"{path}: a flow schema needs a \"$id\"")
                meta = schema.get("x-oo-jwt")
                if meta is not None:
                    flow_id = meta.get("flow") if isinstance(meta, dict) else None
                    if not isinstance(flow_id, str):
                        raise FlowsError(f"{path}: \"x-oo-jwt\" needs a \"flow\" id")
                    old = flows.get(flow_id)
                    if old is not None:
                        schemas.pop(old[0]["$id"], None)
                    flows[flow_id] = (schema, path)
                schemas[schema_id] = (schema, path)
        self.flows: dict[str, Flow] = {fid: _flow(s, p) for fid, (s, p) in flows.items()}
        self._schemas = {sid: s for sid, (s, _) in schemas.items()}
        # what a page calling one of the endpoints must contain (for the engine's prefilter): the
        # endpoint at the end of a URL path, as attribution matches it (the path ends with it, in
        # any case, trailing slashes aside): "/docbuilder/basic" or "/docbuilder.jar" is not a call
        endpoints = sorted({e.rstrip("/").encode() for f in self.flows.values() for e in f.endpoints} - {b""})
        self.endpoint_at_end = _endpoint_at_end(endpoints) if endpoints else None
        self._validators: dict[tuple, Any] = {}
        self._outcomes: dict[str, str] = {}  # ``problems``' outcomes in this process, as JSON text
        self._all_schemas = schemas
        # the bundled schemas are checked by the test suite; a user's are checked on every load
        self._check_schemas({sid: sp for sid, sp in schemas.items() if sp[1].parent != bundled})

    def _check_schemas(self, schemas: dict[str, tuple[dict, Path]]) -> None:
        if not schemas:
            return  # jsonschema is imported only when there is something to validate
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        for schema, path in schemas.values():
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
                raise FlowsError(f"{path}: not a valid JSON Schema at {where}: {exc.message}") from None
            except RecursionError:
                raise FlowsError(f"{path}: nested too deeply to check") from None
            resolver = self.registry.resolver(base_uri=schema["$id"])
            for ref in _refs(schema):
                try:
                    resolver.lookup(ref)
                except Exception:  # noqa: BLE001 - referencing's Unresolvable and friends
                    raise FlowsError(
                        f"{path}: $ref {ref!r} resolves to no schema in the flows folders (never fetched)"
                    ) from None
        self._check_ref_cycles()

    def _check_ref_cycles(self) -> None:
        """A ``$ref`` chain that comes back to where it started without going into a property or an
        item validates the same value again and again: jsonschema recurses until Python stops it
        (a RecursionError on every page, or a panic of its Rust dependency that nothing catches).
        JSON Schema leaves such a schema's behaviour undefined; here it is a configuration error.

        Only what validation can reach is searched: each flow's schema, the ``since`` parts it
        applies (for any version) and its response, and what they lead to (in place, in a
        property or an item, through a ``$ref``). A definition nothing uses is never applied to a
        value, so a cycle in it is no reason to refuse the folder."""
        from referencing.jsonschema import DRAFT202012

        places: dict[int, tuple[Path, str]] = {}  # id(subschema) -> (its file, its JSON pointer)
        for sid, (schema, path) in self._all_schemas.items():
            try:
                root = self.registry.resolver().lookup(sid)
            except Exception:  # noqa: BLE001 - an $id the registry cannot give back: nothing to walk
                continue
            for node, resolver, pointer in _subschemas(root.contents, root.resolver, DRAFT202012):
                places.setdefault(id(node), (path, pointer))
        roots = []  # what a validator is built from (``validator``): the schemas validation starts at
        for flow in self.flows.values():
            parts = [ref for _, ref in flow.since] + [flow.response]
            for ref in (flow.schema_id, *(flow.schema_id + ref for ref in parts if isinstance(ref, str))):
                roots += _looked_up(self.registry.resolver(), ref, DRAFT202012)
        cycle = _same_value_cycle(_reachable(roots, DRAFT202012), DRAFT202012)
        if cycle is None:
            return
        # told from the first subschema that is in a file checked (a bundled one is never the cause)
        spots = [places.get(id(node), (None, "?")) for node in cycle]
        first = next((i for i, (path, _) in enumerate(spots) if path is not None and path.parent != self.bundled_dir), 0)
        spots = spots[first:-1] + spots[:first] + [spots[first]]
        home = spots[0][0]
        chain = " -> ".join(f"{'' if path == home or path is None else path.name}#{pointer}" for path, pointer in spots)
        raise FlowsError(
            f"{home}: a $ref cycle that never goes into a property or an item, so it would validate the "
            f"same value for ever: {chain}"
        )

    @cached_property
    def registry(self):
        """Every schema in one ``referencing`` registry (built on the first validation: a run whose
        pages hold no example never imports jsonschema)."""
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        # The dialect is fixed here (Draft 2020-12), so "$schema" is left out of the registered
        # copies: a "$ref" then keeps the validator class of the referring schema (the lenient one).
        return Registry().with_resources(
            (sid, DRAFT202012.create_resource({k: v for k, v in s.items() if k != "$schema"}))
            for sid, s in self._schemas.items()
        )

    @cached_property
    def vocabulary(self) -> "Vocabulary":
        """What each word, name and key says about the flows (built on the first attribution)."""
        return Vocabulary(tuple(self.flows.values()))

    def get(self, flow_id: str | None) -> Flow | None:
        return self.flows.get(flow_id) if flow_id else None

    def validator(self, flow: Flow, version: tuple[int, ...], response: bool = False):
        """A cached validator for the flow at a version (its ``since`` parts applied), or its response."""
        Draft202012Validator = lenient_validator()

        extras = tuple(ref for since, ref in flow.since if version >= since)
        key = (flow.id, extras, response)
        if key not in self._validators:
            if response:
                schema: dict = {"$ref": flow.schema_id + flow.response}
            elif extras:
                schema = {"allOf": [{"$ref": flow.schema_id}, *({"$ref": flow.schema_id + r} for r in extras)]}
            else:
                schema = {"$ref": flow.schema_id}
            self._validators[key] = GuardedValidator(Draft202012Validator(schema, registry=self.registry))
        return self._validators[key]


    def problems(self, flow: Flow, version: tuple[int, ...], value: Any, response: bool = False) -> tuple[list, list]:
        """What the flow's schema at a version (or its response's) finds wrong with a value: the
        values it rejects, each once, as [path, the most telling of its errors' messages] in the
        order met; and the objects lacking required properties, as [path, [names]] (a path: the
        keys and indexes from the value down). As the previous check of the page found them, if
        it did (``remembered``): a page edited elsewhere needs no jsonschema for its examples."""
        extras = tuple(ref for since, ref in flow.since if version >= since)
        written = remembered.canonical(value)
        what = None if written is None else f"{flow.id}\0{extras}\0{response}\0{written}"

        def work() -> list:
            if what is None:
                return _problems(self.validator(flow, version, response=response), value)
            # the same example on another page (a translation's) is validated once per process
            text = self._outcomes.get(what)
            if text is None:
                text = json.dumps(_problems(self.validator(flow, version, response=response), value))
                if len(self._outcomes) < MAX_OUTCOMES:
                    self._outcomes[what] = text
            return json.loads(text)

        found = remembered.recalled("schema", what, work, _are_problems)
        return found[0], found[1]


def _problems(validator, value: Any) -> list:
    from jsonschema.exceptions import best_match

    wrong: dict[tuple, list] = {}  # path -> the errors of the value there
    lacking = []
    for error in _errors(validator, value):
        path = list(error.absolute_path)
        if error.validator == "required":
            names = [n for n in error.validator_value if isinstance(error.instance, dict) and n not in error.instance]
            lacking.append([path, names])
        else:
            wrong.setdefault(tuple(path), []).append(error)
    return [[[list(path), best_match(errors).message] for path, errors in wrong.items()], lacking]


def _errors(validator, value: Any):
    """Each error, where a combinator's is replaced by its branches' (the most telling one of an
    anyOf or oneOf, every one of an allOf)."""
    from jsonschema.exceptions import best_match

    for error in validator.iter_errors(value):
        if error.validator in ("anyOf", "oneOf") and error.context:
            yield best_match(error.context)
        elif error.validator == "allOf" and error.context:
            yield from error.context
        else:
            yield error


def _are_problems(note: Any) -> bool:
    def path(p: Any) -> bool:
        return type(p) is list and all(type(k) in (str, int) for k in p)

    return (type(note) is list and len(note) == 2 and type(note[0]) is list and type(note[1]) is list
            and all(type(w) is list and len(w) == 2 and path(w[0]) and type(w[1]) is str for w in note[0])
            and all(type(m) is list and len(m) == 2 and path(m[0]) and type(m[1]) is list
                    and all(type(n) is str for n in m[1]) for m in note[1]))



def _endpoint_at_end(endpoints: list[bytes]):
    """Any of the endpoints (in any case, trailing slashes aside) where a URL path ends. When each
    begins with "/", the letter after it is looked at before the endpoints are tried one by one
    (a page holds a "/" in every link: a third of the scan's time)."""
    end = b")/*+(?![A-Za-z0-9._~%-])"
    if not all(e.startswith(b"/") and len(e) > 1 for e in endpoints):
        return re.compile(b"(?i:" + b"|".join(map(re.escape, endpoints)) + end)
    seconds = sorted({case(e[1:2]) for e in endpoints for case in (bytes.lower, bytes.upper)})
    return re.compile(b"/(?=[" + b"".join(map(re.escape, seconds)) + b"])(?i:"
                      + b"|".join(re.escape(e[1:]) for e in endpoints) + end)

class GuardedValidator:
    """A validator whose recursion cannot escape as a crash.

    A ``$ref`` back to the schema through its properties or items is legitimate, and ends with the
    example; but an example nested deeper than Python's recursion limit allows (``max_json_depth``
    set high) makes jsonschema raise a RecursionError, or, when the limit is met inside its Rust
    dependency (rpds), a pyo3 ``PanicException``: a BaseException, which ``except Exception`` lets
    through and which aborted a build. Either is one error at the example ("not validated"), never a
    crash; KeyboardInterrupt, SystemExit and GeneratorExit go through as they are. (A schema that
    recurses without going into the value is refused when it is loaded: ``_check_ref_cycles``.)
    """

    def __init__(self, validator):
        self._validator = validator

    def iter_errors(self, instance):
        try:
            yield from self._validator.iter_errors(instance)
        except RecursionError:
            yield _not_validated(instance)
        except BaseException as exc:
            if not is_rust_panic(exc):
                raise
            yield _not_validated(instance)


def is_rust_panic(exc: BaseException) -> bool:
    """Is this pyo3's PanicException (a Rust extension's panic), which no module lets one import?"""
    return any(k.__name__ == "PanicException" and k.__module__ == "pyo3_runtime" for k in type(exc).__mro__)


def _not_validated(instance):
    from jsonschema.exceptions import ValidationError

    return ValidationError(
        "not validated: its flow's schema recursed deeper than Python allows on this example "
        "(a $ref back through properties or items, followed as deep as the example is nested)",
        validator="$ref", validator_value=None, instance=instance, schema={},
    )


class Vocabulary:
    """The evidence vocabulary of a set of flows: each flow's word stems and names, and how much a
    word or a key says, by how few flows share it (a key every flow knows says nothing; ``status``,
    known to the callback alone, says much): log2(flows / flows that have it)."""

    def __init__(self, flows: tuple[Flow, ...]):
        from .words import stems_of_words

        self.stems = {f.id: stems_of_words(f.words) for f in flows}
        self.names = {f.id: frozenset(f.names) for f in flows}
        self.all_stems = frozenset(s for stems in self.stems.values() for s in stems)
        self.all_names = frozenset(n for names in self.names.values() for n in names)
        self.stem_flows = _inverse(self.stems)  # stem -> the flows whose word it is
        self.name_flows = _inverse(self.names)
        self.types = {f.id: dict(f.key_types) for f in flows}
        count = len(flows)
        self.stem_weight = _rarity(count, (s for stems in self.stems.values() for s in stems))
        self.name_weight = _rarity(count, (n for names in self.names.values() for n in names))
        self.key_weight = _rarity(count, (k for f in flows for k in f.known_keys))
        # keys only a response has ({"error": 0, ...}, "endConvert", "urls"): an example holding one,
        # and no token, is a response, in any language it is introduced in
        self.response_only = frozenset(k for f in flows for k in f.response_keys) - self.key_weight.keys()


def _inverse(table: dict[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for flow_id, items in table.items():
        for item in items:
            out.setdefault(item, []).append(flow_id)
    return {item: tuple(flow_ids) for item, flow_ids in out.items()}


def _rarity(count: int, items) -> dict[str, float]:
    import math

    seen: dict[str, int] = {}
    for item in items:
        seen[item] = seen.get(item, 0) + 1
    return {item: math.log2(max(count, 2) / n) for item, n in seen.items()}


@lru_cache(maxsize=1)
def lenient_validator():
    """Draft 2020-12, where a value written as an expression (UNKNOWN) fits any type and value."""
    from jsonschema import Draft202012Validator, validators

    from .model import Unknown

    base_types = Draft202012Validator.TYPE_CHECKER
    type_checker = base_types.redefine_many(
        {
            name: (lambda checker, instance, name=name: isinstance(instance, Unknown) or base_types.is_type(instance, name))
            for name in ("array", "boolean", "integer", "null", "number", "object", "string")
        }
    )

    def lenient(check):
        def keyword(validator, value, instance, schema):
            if not isinstance(instance, Unknown):
                yield from check(validator, value, instance, schema)

        return keyword

    keywords = ("enum", "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum")
    return validators.extend(
        Draft202012Validator,
        validators={k: lenient(Draft202012Validator.VALIDATORS[k]) for k in keywords},
        type_checker=type_checker,
    )


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowsError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FlowsError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise FlowsError(f"{path}: nested too deeply to read") from None
    if not isinstance(data, dict):
        raise FlowsError(f"{path}: a schema must be a JSON object")
    return data


def _flow(schema: dict, path: Path) -> Flow:
    meta = schema["x-oo-jwt"]

    def strings(name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = meta.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FlowsError(f"{path}: x-oo-jwt.{name} must be a list of strings")
        bad = [v for v in value if allowed and v not in allowed]
        if bad:
            raise FlowsError(f"{path}: x-oo-jwt.{name}: unknown {', '.join(bad)} (use {', '.join(allowed or ())})")
        return tuple(value)

    role = meta.get("role")
    if role is not None and role not in ROLES:
        raise FlowsError(f"{path}: x-oo-jwt.role must be one of {', '.join(ROLES)} or null")
    since = meta.get("since") or {}
    if not isinstance(since, dict):
        raise FlowsError(f"{path}: x-oo-jwt.since must map versions to \"#/$defs/...\" references")
    return Flow(
        id=meta["flow"],
        role=role,
        token=meta.get("token", "jwt"),
        transports=strings("transports", TRANSPORTS),
        endpoints=strings("endpoints"),
        methods=tuple(m.upper() for m in strings("methods")),
        # "hints" (phrases, the older form of a user's flow) count as words, their capitalised ones as names
        words=strings("words") + strings("hints"),
        names=frozenset(strings("names") + tuple(h for h in strings("hints") if h != h.lower() and " " not in h)),
        since=tuple(sorted((parse_version(v), ref) for v, ref in since.items())),
        response=meta.get("response"),
        schema_id=schema["$id"],
        known_keys=frozenset(_property_names(schema)),
        required_keys=frozenset(r for r in schema.get("required") or () if isinstance(r, str)),
        key_types=_declared_types(schema),
        prior=_number(meta.get("prior", 0), f"{path}: x-oo-jwt.prior must be a number"),
        response_keys=frozenset(strings("response_keys")) | _response_properties(schema, meta.get("response")),
        alg=meta.get("alg", "HS256"),
    )


def _response_properties(schema: dict, pointer: Any) -> frozenset[str]:
    """The top-level properties of the flow's response schema ("#/$defs/..."), if it has one."""
    if not isinstance(pointer, str) or not pointer.startswith("#/$defs/"):
        return frozenset()
    sub = (schema.get("$defs") or {}).get(pointer[len("#/$defs/"):]) or {}
    return frozenset((sub.get("properties") or {}) if isinstance(sub, dict) else ())


def _number(value: Any, problem: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FlowsError(problem)
    return float(value)


def _declared_types(schema: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The JSON types each top-level property declares directly (none for a $ref or no "type")."""
    out = []
    for name, sub in (schema.get("properties") or {}).items():
        declared = sub.get("type") if isinstance(sub, dict) else None
        if isinstance(declared, str):
            declared = [declared]
        if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
            out.append((name, tuple(declared)))
    return tuple(out)


def _property_names(schema: dict) -> set[str]:
    """Top-level property names of a flow, including those of its $defs forms."""
    names = set((schema.get("properties") or {}).keys())
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or []:
            ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
            if ref.startswith("#/$defs/"):
                sub = (schema.get("$defs") or {}).get(ref[len("#/$defs/") :]) or {}
                names |= set((sub.get("properties") or {}).keys())
    return names


# Where a keyword's subschemas apply: to the value itself (a cycle through these alone never
# ends), to a part of it (properties, items: the recursion ends with the value), or nowhere ($defs:
# held for a $ref). Draft 2020-12's applicators.
_SAME_VALUE = {"not", "if", "then", "else", "allOf", "anyOf", "oneOf", "dependentSchemas"}
_PART = {
    "items", "prefixItems", "contains", "properties", "patternProperties", "additionalProperties",
    "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
}
_HELD = {"$defs", "definitions"}


def _children(node: dict):
    """(JSON pointer suffix, subschema, where it applies: "same" value, a "part" of it, or "held"
    for a $ref) of the subschemas ``node`` holds."""
    for key, value in node.items():
        if key not in _SAME_VALUE and key not in _PART and key not in _HELD:
            continue
        step = "/" + key.replace("~", "~0").replace("/", "~1")
        where = "same" if key in _SAME_VALUE else "part" if key in _PART else "held"
        if isinstance(value, list):
            for i, sub in enumerate(value):
                yield f"{step}/{i}", sub, where
        elif isinstance(value, dict) and key in ("properties", "patternProperties", "dependentSchemas", *_HELD):
            for name, sub in value.items():
                yield step + "/" + str(name).replace("~", "~0").replace("/", "~1"), sub, where
        else:
            yield step, value, where


def _entered(resolver, node: dict, spec):
    """The resolver inside ``node``: a subschema with its own "$id" is a new base for its $refs."""
    return resolver.in_subresource(spec.create_resource(node)) if isinstance(node.get("$id"), str) else resolver


def _subschemas(root: Any, resolver, spec):
    """Every subschema of a schema (iteratively: a deep schema is no deep recursion), with the
    resolver that reads its $refs and its JSON pointer."""
    stack = [(root, resolver, "")]
    while stack:
        node, resolver, pointer = stack.pop()
        if not isinstance(node, dict):
            continue  # true, false, or not a schema (check_schema said so already)
        resolver = _entered(resolver, node, spec)
        yield node, resolver, pointer
        stack.extend((sub, resolver, pointer + step) for step, sub, _ in reversed(list(_children(node))))


def _same_value_steps(node: dict, resolver, spec, applies: tuple[str, ...] = ("same",)):
    """The subschemas ``node`` applies to the value it validates (``applies``: and to its parts,
    with "part"): its applicators' and what its "$ref"/"$dynamicRef" lead to (each with its
    resolver)."""
    for _, sub, where in _children(node):
        if where in applies and isinstance(sub, dict):
            yield sub, _entered(resolver, sub, spec)
    for key in ("$ref", "$dynamicRef"):
        ref = node.get(key)
        if isinstance(ref, str):
            yield from _looked_up(resolver, ref, spec)


def _looked_up(resolver, ref: str, spec) -> list:
    """[(the subschema ``ref`` leads to, its resolver)], or [] when it leads to none (an
    unresolvable $ref is reported by the check of the $refs)."""
    try:
        resolved = resolver.lookup(ref)
    except Exception:  # noqa: BLE001 - referencing's Unresolvable and friends
        return []
    if not isinstance(resolved.contents, dict):
        return []
    return [(resolved.contents, _entered(resolved.resolver, resolved.contents, spec))]


def _reachable(roots, spec) -> list:
    """Every subschema validation can apply, from ``roots`` ((subschema, resolver) pairs): to the
    value, to a part of it, through a $ref; never a definition that nothing refers to."""
    seen: set[int] = set()
    out = []
    stack = list(reversed(roots))
    while stack:
        node, resolver = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append((node, resolver))
        stack.extend(reversed(list(_same_value_steps(node, resolver, spec, ("same", "part")))))
    return out


def _same_value_cycle(starts, spec) -> list[dict] | None:
    """A chain of subschemas, each applied to the same value by the one before, that comes back to
    its first (the first and last items are that subschema); None when there is none. A depth-first
    walk with an explicit stack."""
    state: dict[int, int] = {}  # id(subschema) -> 1 on the current chain, 2 done
    for start, start_resolver in starts:
        if id(start) in state:
            continue
        state[id(start)] = 1
        chain = [(start, _same_value_steps(start, start_resolver, spec))]
        while chain:
            node, steps = chain[-1]
            step = next(steps, None)
            if step is None:
                state[id(node)] = 2
                chain.pop()
                continue
            sub, sub_resolver = step
            seen = state.get(id(sub))
            if seen == 1:
                nodes = [n for n, _ in chain]
                at = next(i for i, n in enumerate(nodes) if n is sub)
                return nodes[at:] + [sub]
            if seen is None:
                state[id(sub)] = 1
                chain.append((sub, _same_value_steps(sub, sub_resolver, spec)))
    return None


def _refs(node: Any):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def load_flows(extra_dirs: tuple[Path, ...] = ()) -> FlowRegistry:
    """The registry for these folders, loaded again when a schema in them changes (mkdocs serve)."""
    dirs = tuple(extra_dirs)
    return _load_flows(dirs, _signature(dirs))


def _signature(dirs: tuple[Path, ...]) -> tuple:
    out = []
    for folder in dirs:
        try:
            out.append(tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in Path(folder).glob("*.json"))))
        except OSError:
            out.append(None)
    return tuple(out)


@lru_cache(maxsize=8)
def _load_flows(dirs: tuple[Path, ...], _signature: tuple) -> FlowRegistry:
    return FlowRegistry(dirs)
