"""The rules: stable ids, default severities and one-line docs. Imports nothing of the package."""

from __future__ import annotations

from typing import NamedTuple

from .model import Severity


class Rule(NamedTuple):
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
        Rule("unused-suppression", Severity.WARNING, "An oo-jwt directive (ignore, disable, enable) suppresses no finding: reported at the directive, so that suppressions do not outlive the defects they hid."),
        Rule("directive-invalid", Severity.ERROR, "A comment meant for oo-jwt cannot be read (a missing colon, a mistyped word, an unknown rule id or flow): it was not applied, so the page is not checked as its writer meant."),
    )
}


# ------------------------------------------------------------------ examples (`oo-jwt rule ID`)

# A failing and a passing example of each rule: short pages whose tokens are signed with the demo
# docs secret the README publishes (the bundled site's). A test checks, with OO_JWT_SECRET set to
# it, that each failing example gives its rule and each passing one does not. A rule whose failure
# is not a page's text (a file that is not UTF-8, a bug) is described in words (``EXAMPLE_WORDS``).

_CALLBACK = 'Sample parameters of the request to the "callbackUrl" address by the document editing service:\n\n'
_SIGNED = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJLaGlyejZ6VFBkZmQ3Iiwic3RhdHVzIjo0fQ.5mMOB1_cxO8O2tSvj4zIMxR8lj1dF7Dl5kHbEyuLYaI"


def _callback(example: str = '{"key": "Khirz6zTPdfd7", "status": 4}', token: str | None = None, above: str = "") -> str:
    """A callback example (and the sample token that signs it), with a directive ``above`` it."""
    page = f"{above}{_CALLBACK}```json\n{example}\n```\n"
    return page + (f"\nSample token:\n\n```\n{token}\n```\n" if token else "")


def _command(token: str) -> str:
    return ("Sample of the request to the document command service:\n\n```http\n"
            "POST /coauthoring/CommandService.ashx HTTP/1.1\nHost: documentserver\nContent-Type: application/json\n"
            f'Authorization: Bearer {token}\n\n{{"c": "info", "key": "Khirz6zTPdfd7"}}\n```\n')


def _download(path: str) -> str:
    return ("Sample of the request to the document storage service for file download:\n\n```http\n"
            f"GET {path} HTTP/1.1\nHost: example.com\nAuthorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJwYXlsb2FkIjp7InVybCI6Imh0dHBzOi8vZXhhbXBsZS5jb20vdXJsLXRvLWV4YW1wbGUtZG9jdW1lbnQuZG9jeCJ9fQ."
            "85HgQ7dMPqlia90ejLcrUbM-e4xYp5X6DO4JKmfENEs\n```\n")


_COMPARE = '```json\n{"c": "compare", "fileType": "docx", "url": "https://example.com/url-to-example-document.docx"}\n```\n'

EXAMPLES: dict[str, tuple[str, str]] = {
    "json-syntax": (_callback('{"key": "Khirz6zTPdfd7", "status": 4,}'), _callback()),
    "schema": (_callback('{"key": "Khirz6zTPdfd7", "status": 5}'), _callback()),
    "token-malformed": (_callback('{"key": "Khirz6zTPdfd7", "status": 4, "token": "not-a-json-web-token"}'),
                        _callback(f'{{"key": "Khirz6zTPdfd7", "status": 4, "token": "{_SIGNED}"}}')),
    "token-alg": (_callback(token="eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJrZXkiOiJLaGlyejZ6VFBkZmQ3Iiwic3RhdHVzIjo0fQ."),
                  _callback(token=_SIGNED)),
    "token-signature": (_callback(token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJLaGlyejZ6VFBkZmQ3Iiwic3RhdHVz"
                                        "Ijo0fQ.X45OUFcV1keolI51Hgd_eVyN_h51C_TWOIYWJ4rK5X4"),
                        _callback(token=_SIGNED)),
    "token-payload-mismatch": (_callback(token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJLaGlyejZ6VFBkZmQ4Iiwic3"
                                               "RhdHVzIjo0fQ.ky3vLerXG0ANbxOFOfM8gR3x9Ik0QzdH14nts2ma8ts"),
                               _callback(token=_SIGNED)),
    "token-wrapper": (_command("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjIjoiaW5mbyIsImtleSI6IktoaXJ6NnpUUGRmZDcifQ."
                               "TmcLFp3enCxHjVN1uAUM9DnQYcP-2XmFxOwL1s9xyjk"),
                      _command("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwYXlsb2FkIjp7ImMiOiJpbmZvIiwia2V5IjoiS2hpcno2el"
                               "RQZGZkNyJ9fQ.M6FVjLPdXgx9qgny15c0ts8HunZxVnUEDQGpSL19R5Y")),
    "request-mismatch": (_download("/url-to-another-document.docx"), _download("/url-to-example-document.docx")),
    "token-expired": (_callback(token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJLaGlyejZ6VFBkZmQ3Iiwic3RhdHVzIjo0"
                                      "LCJleHAiOjE1MDAwMDAwMDB9.uRU-XK8FPULF0THPBf-ghmBOVsFwhEo8x7veboNBTsM"),
                      _callback(token=_SIGNED)),
    "token-weak-secret": (_callback(token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJLaGlyejZ6VFBkZmQ3Iiwic3RhdHVz"
                                          "Ijo0fQ.gVu-mNSdZCAxDh_030ZU6qOeQ1GvR5nZY_D6wtrmQHQ"),
                          _callback(token=_SIGNED)),
    "token-unpaired": (f"{_CALLBACK}Sample token:\n\n```\n{_SIGNED}\n```\n", _callback(token=_SIGNED)),
    "flow-unknown": ("Every webhook delivery is signed. Sample token:\n\n```\neyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                     "eyJldmVudCI6InBpbmcifQ.gpCsTnv1_MGD14F5lf9HkcoUnhYIUau9wL8P6XU5yVQ\n```\n", _callback(token=_SIGNED)),
    "flow-ambiguous": (_COMPARE, "<!-- oo-jwt: flow=setRequestedDocument -->\n" + _COMPARE),
    "json-duplicate-key": (_callback('{"key": "Khirz6zTPdfd7", "status": 4, "key": "Khirz6zTPdfd8"}'), _callback()),
    "unused-suppression": (_callback(above="<!-- oo-jwt: ignore rule=schema -->\n"),
                           _callback('{"key": "Khirz6zTPdfd7", "status": 5}',
                                     above='<!-- oo-jwt: ignore rule=schema reason="what a legacy server sends" -->\n')),
    "directive-invalid": (_callback('{"key": "Khirz6zTPdfd7", "status": 5}', above="<!-- oo-jwt: ignore rule=shema -->\n"),
                          _callback('{"key": "Khirz6zTPdfd7", "status": 5}', above="<!-- oo-jwt: ignore rule=schema -->\n")),
}

EXAMPLE_WORDS: dict[str, tuple[str, str]] = {
    "page-unreadable": ("A page saved as Latin-1 (a byte that is not UTF-8), a page holding a NUL byte, a page larger than "
                        "max_page_bytes, or a folder of pages that cannot be listed (no permission).",
                        "A page saved as UTF-8 text (with or without a BOM), within max_page_bytes."),
    "page-partly-checked": ("A page whose lists or quotes nest past 100 levels (about 50 nested lists), or that holds "
                            "more examples and tokens than max_samples_per_page (default 1000): the rest is not checked.",
                            "A page of ordinary depth with fewer samples than max_samples_per_page."),
    "internal-error": ("A page on which the checker itself fails (a bug in oo-jwt: please report it, with the page).",
                       "Every other page: the run goes on and checks them."),
}
