"""schema: an example payload breaks its flow's JSON Schema.

Reported at the offending value, once per value (the most telling of its errors: a string
status is "not of type integer", not also "not one of"); missing properties once per object
that lacks them, at that object, with its JSON pointer. An example that nothing but its own keys attributes (no token, no
request, no text naming the flow) may be a fragment of a payload: what it has is checked, what
it lacks is not.
"""

from __future__ import annotations

from ..extract.jsondoc import pointer_token
from .base import PageCheck


def check(ctx: PageCheck):
    for example in ctx.extraction.examples:
        attribution = ctx.attribution(example)
        flow = attribution.flow
        if flow is None:
            continue
        response = example.response
        if response and not flow.response:
            continue
        # The 7.1 list says which parameters a signature must cover: a payload example (the JSON
        # a "Sample token" signs) must list them all; a config that carries its own token is held
        # to it through the token-payload comparison instead (what it sets must be signed).
        version = (0,) if example.token_holder else ctx.version
        validator = ctx.flows.validator(flow, version, response=response)
        base = "/payload" if example.wrapped else ""
        missing: dict[str, list[str]] = {}
        wrong: dict[str, list] = {}  # pointer -> the errors of the value there (reported once)
        for error in _errors(validator, example.params):
            relative = "".join(f"/{pointer_token(str(p))}" for p in error.absolute_path)
            if error.validator == "required" and (relative in example.open or attribution.fragment):
                continue  # the elision may hold the missing members; a fragment shows only a part
            pointer = base + relative
            if error.validator == "required":
                names = missing.setdefault(pointer, [])
                names += [n for n in error.validator_value if isinstance(error.instance, dict) and n not in error.instance]
                continue
            wrong.setdefault(pointer, []).append(error)
        for pointer, errors in wrong.items():  # one finding per value: the most telling of its errors
            error = _most_telling(errors)
            yield ctx.finding(
                "schema", example.span_of(pointer), f"{pointer or '/'}: {error.message}", flow, pointer
            )
        for pointer, names in missing.items():
            names = sorted(set(names))
            what = "property" if len(names) == 1 else "properties"
            since = " (from 7.1 every listed parameter must be present and signed)" if flow.since else ""
            yield ctx.finding(
                "schema",
                example.span_of(pointer),
                f"{pointer or '/'}: missing required {what} {', '.join(repr(n) for n in names)}{since}",
                flow,
                pointer,
            )


def _most_telling(errors):
    from jsonschema.exceptions import best_match  # jsonschema is imported only to validate

    return best_match(errors)


def _errors(validator, value):
    from jsonschema.exceptions import best_match

    for error in validator.iter_errors(value):
        if error.validator in ("anyOf", "oneOf") and error.context:
            yield best_match(error.context)
        elif error.validator == "allOf" and error.context:
            yield from error.context
        else:
            yield error
