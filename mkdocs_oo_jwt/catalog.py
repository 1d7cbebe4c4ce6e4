"""The rules: stable ids, default severities and one-line docs. Imports nothing of the package."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    doc: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("json-syntax", Severity.ERROR, "A JSON example does not parse; reported at the line of the fault."),
        Rule("schema", Severity.ERROR, "An example payload breaks its flow's JSON Schema; reported at the offending value with its JSON pointer."),
        Rule("token-malformed", Severity.ERROR, "A sample token is not a well-formed JWT (three base64url segments, JSON header and payload objects)."),
        Rule("token-alg", Severity.ERROR, "A sample token's alg is 'none' or not the flow's algorithm (HS256)."),
        Rule("token-signature", Severity.ERROR, "A sample token does not verify with the secret configured for its flow's role."),
        Rule("token-payload-mismatch", Severity.ERROR, "A sample token's payload differs from the example it signs; every difference is listed as a JSON pointer."),
        Rule("token-wrapper", Severity.ERROR, "A header token lacks the {\"payload\": ...} wrapper, or a body token has it."),
        Rule("request-mismatch", Severity.ERROR, "The request path or Host disagrees with the url the token signs."),
        Rule("token-expired", Severity.WARNING, "A sample token's exp is in the past or its nbf in the future."),
        Rule("token-weak-secret", Severity.WARNING, "A sample token verifies with an empty or publicly known secret."),
        Rule("token-unpaired", Severity.INFO, "A token of a known flow has no example to compare its payload with."),
        Rule("flow-unknown", Severity.INFO, "A token, or an example whose keys are the flows' keys, belongs to no known flow: it is checked for form only."),
        Rule("flow-ambiguous", Severity.INFO, "An example was attributed to a flow that another flow's evidence came close to; the finding names both and the directive that settles it."),
        Rule("json-duplicate-key", Severity.WARNING, "A JSON example repeats a key in one object: a token can sign only one of the two values."),
        Rule("internal-error", Severity.ERROR, "The checker failed on this page (a bug: please report it); every other page was still checked."),
        Rule("page-unreadable", Severity.ERROR, "A page cannot be read or decoded as UTF-8, or exceeds a configured limit; or a folder of pages cannot be listed."),
        Rule("page-partly-checked", Severity.WARNING, "Part of a page was not checked: Markdown nested too deeply to parse (about 50 lists), or more samples than max_samples_per_page."),
    )
}
