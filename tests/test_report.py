"""The output reporters, as a user sees them: exact text, parseable JSON/SARIF/XML, exact escaping."""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

import mkdocs_oo_jwt
from mkdocs_oo_jwt.catalog import RULES
from mkdocs_oo_jwt.model import Finding, Location, Notice, RunResult, Severity
from mkdocs_oo_jwt.report import REPORTERS

CALLBACK = "docs/api/callback.md"
UNICODE = "docs/guide/ünïcode.md"
INDEX = "docs/index.md"
# Comma, colon, percent and a line break: everything the GitHub escaping has to handle.
TRICKY = "token expired: exp 1700000000 is 100% past\nsee RFC 7519, section 4.1.4"


def _result() -> RunResult:
    return RunResult(
        findings=[
            Finding("schema", Severity.ERROR, CALLBACK, Location(3, 5, 3, 12),
                    "value 7 is not one of [0, 1, 2]", flow="callback", pointer="/status"),
            Finding("token-expired", Severity.WARNING, CALLBACK, Location(10, 1, 12, 4),
                    TRICKY, flow="callback"),
            Finding("token-unpaired", Severity.INFO, CALLBACK, Location(20, 3, 20, 40),
                    "token has no example to compare with"),
            Finding("token-signature", Severity.ERROR, UNICODE, Location(7, 9, 7, 30),
                    "signature does not verify", flow="editor", pointer=""),
        ],
        notices=[
            Notice(Severity.WARNING, "no secret configured for role 'inbox'"),
            Notice(Severity.INFO, "secret for role 'editor' is shorter than 32 bytes"),
        ],
        pages=[CALLBACK, UNICODE, INDEX],
    )


def _one(rule="schema", severity=Severity.ERROR, path="a.md", loc=Location(1, 1, 1, 2), message="m", **kw):
    return Finding(rule, severity, path, loc, message, **kw)


def test_registry_has_every_format_and_each_returns_text():
    assert set(REPORTERS) == {"text", "json", "sarif", "github", "junit", "gitlab"}
    for render in REPORTERS.values():
        out = render(_result())
        assert isinstance(out, str) and out.endswith("\n")
        # Calling with and without color is allowed for every format.
        assert isinstance(render(RunResult(), color=True), str)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "junit"])
def test_color_only_changes_text(fmt):
    render = REPORTERS[fmt]
    assert render(_result(), color=True) == render(_result(), color=False)


def test_reporters_import_only_stdlib_model_and_catalog():
    allowed_relative = {"model", "catalog", "", "common", "text", "json_report", "sarif", "github", "junit"}
    report_dir = Path(mkdocs_oo_jwt.__file__).parent / "report"
    for path in report_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert (node.module or "") in allowed_relative, (path.name, node.module)
            elif isinstance(node, ast.ImportFrom):
                top = node.module.split(".")[0]
                assert top == "__future__" or top in sys.stdlib_module_names, (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in sys.stdlib_module_names, (path.name, alias.name)


# ---------------------------------------------------------------- text

TEXT_GOLDEN = [
    "docs/api/callback.md:3:5: error schema [callback] value 7 is not one of [0, 1, 2]",
    "docs/api/callback.md:10:1: warning token-expired [callback] "
    "token expired: exp 1700000000 is 100% past\\nsee RFC 7519, section 4.1.4",
    "docs/api/callback.md:20:3: info token-unpaired token has no example to compare with",
    "docs/guide/ünïcode.md:7:9: error token-signature [editor] signature does not verify",
    "warning: no secret configured for role 'inbox'",
    "note: secret for role 'editor' is shorter than 32 bytes",
    "2 errors, 1 warning, 1 info in 3 pages",
]


def test_text_golden():
    out = REPORTERS["text"](_result())
    assert out == "\n".join(TEXT_GOLDEN) + "\n"
    assert "\x1b" not in out


def test_text_color_wraps_only_the_severity():
    plain = REPORTERS["text"](_result())
    colored = REPORTERS["text"](_result(), color=True)
    assert "\x1b[31merror\x1b[0m schema" in colored
    assert "\x1b[33mwarning\x1b[0m token-expired" in colored
    assert "\x1b[34minfo\x1b[0m token-unpaired" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain


@pytest.mark.parametrize(
    ("findings", "pages", "summary"),
    [
        ([], ["a.md", "b.md", "c.md", "d.md", "e.md"], "no problems in 5 pages"),
        ([], ["a.md"], "no problems in 1 page"),
        ([], [], "no problems in 0 pages"),
        ([_one()], ["a.md"], "1 error, 0 warnings, 0 infos in 1 page"),
        ([_one(), _one(severity=Severity.INFO), _one(severity=Severity.INFO)], ["a.md", "b.md"],
         "1 error, 0 warnings, 2 infos in 2 pages"),
        ([_one(severity=Severity.WARNING), _one(severity=Severity.WARNING)], ["a.md"],
         "0 errors, 2 warnings, 0 infos in 1 page"),
    ],
)
def test_text_summary_wording(findings, pages, summary):
    out = REPORTERS["text"](RunResult(findings=findings, pages=pages))
    assert out.splitlines()[-1] == summary


def test_text_no_findings_is_just_the_summary():
    assert REPORTERS["text"](RunResult(pages=["a.md", "b.md"])) == "no problems in 2 pages\n"


def test_text_keeps_control_characters_off_the_terminal():
    out = REPORTERS["text"](RunResult(findings=[_one(message="a\x1b[2Jb\rc")], pages=["a.md"]))
    assert out.splitlines()[0] == "a.md:1:1: error schema a\\x1b[2Jb\\rc"


# ---------------------------------------------------------------- json

def test_json_contract():
    result = _result()
    out = REPORTERS["json"](result)
    assert out.endswith("}\n")
    doc = json.loads(out)  # exactly one JSON value
    assert set(doc) == {"version", "findings", "suppressed", "summary"}
    assert doc["version"] == 1
    assert doc["findings"] == [f.as_dict() for f in result.findings]
    assert all(set(f) == set(result.findings[0].as_dict()) for f in doc["findings"])
    assert doc["summary"] == result.summary()
    assert doc["findings"][3]["path"] == UNICODE
    assert doc["findings"][1]["message"] == TRICKY
    assert out.startswith('{\n  "version": 1,')  # indent 2


def test_json_empty_run():
    doc = json.loads(REPORTERS["json"](RunResult(pages=["a.md"])))
    assert doc["findings"] == [] and doc["summary"]["pages"] == 1


# ---------------------------------------------------------------- sarif

def _sarif(result: RunResult) -> dict:
    return json.loads(REPORTERS["sarif"](result))


def test_sarif_envelope_and_driver():
    doc = _sarif(_result())
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "oo-jwt"
    assert driver["informationUri"].startswith("https://")
    assert driver["version"] == mkdocs_oo_jwt.__version__
    ids = [r["id"] for r in driver["rules"]]
    assert ids == list(RULES) and len(ids) == len(set(ids))
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    for entry in driver["rules"]:
        rule = RULES[entry["id"]]
        assert entry["name"]
        assert entry["shortDescription"]["text"]
        assert entry["fullDescription"]["text"] == rule.doc
        assert entry["help"]["text"]
        assert entry["defaultConfiguration"]["level"] == levels[rule.severity]


def test_sarif_results():
    result = _result()
    run = _sarif(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [f.rule for f in result.findings]  # order kept
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    for res, f in zip(results, result.findings):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"] == f.message
        (loc,) = res["locations"]
        phys = loc["physicalLocation"]
        assert unquote(phys["artifactLocation"]["uri"]) == f.path
        assert phys["region"] == {
            "startLine": f.location.line,
            "startColumn": f.location.column,
            "endLine": f.location.end_line,
            "endColumn": f.location.end_column,
        }
        assert all(v >= 1 for v in phys["region"].values())
        fp = res["partialFingerprints"]["ooJwtFinding/v1"]
        assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert len({r["partialFingerprints"]["ooJwtFinding/v1"] for r in results}) == len(results)
    # Non-ASCII is percent-encoded (UTF-8) so the uri is a valid URI reference.
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "docs/guide/%C3%BCn%C3%AFcode.md"
    )
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == CALLBACK


def test_sarif_notices_are_tool_notifications():
    (invocation,) = _sarif(_result())["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {"level": "warning", "message": {"text": "no secret configured for role 'inbox'"}},
        {"level": "note", "message": {"text": "secret for role 'editor' is shorter than 32 bytes"}},
    ]


def test_sarif_fingerprint_ignores_line_moves_but_not_content():
    base = _one(path="docs/a.md", loc=Location(3, 5, 3, 9), pointer="/x", message="bad")
    moved = base._replace(location=Location(30, 1, 31, 2))
    other = base._replace(message="worse")

    def fp(f):
        return _sarif(RunResult(findings=[f]))["runs"][0]["results"][0]["partialFingerprints"]["ooJwtFinding/v1"]

    assert fp(base) == fp(moved)
    assert fp(base) != fp(other)
    assert fp(base) != fp(base._replace(pointer="/y"))
    assert fp(base) != fp(base._replace(rule="json-syntax"))
    assert fp(base) != fp(base._replace(path="docs/b.md"))


def test_sarif_identical_findings_get_distinct_fingerprints():
    f = _one()
    results = _sarif(RunResult(findings=[f, f._replace(location=Location(9, 1, 9, 2))]))["runs"][0]["results"]
    assert results[0]["partialFingerprints"] != results[1]["partialFingerprints"]


def test_sarif_paths_are_forward_slash_uris():
    findings = [
        _one(path="docs\\win\\page.md"),
        _one(path="docs/with space#1.md"),
        _one(path="/abs/page.md"),
    ]
    results = _sarif(RunResult(findings=findings))["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris == ["docs/win/page.md", "docs/with%20space%231.md", "file:///abs/page.md"]


def test_sarif_unknown_rule_still_has_a_valid_index():
    run = _sarif(RunResult(findings=[_one(rule="made-up")]))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert rules[run["results"][0]["ruleIndex"]]["id"] == "made-up"
    assert [r["id"] for r in rules[: len(RULES)]] == list(RULES)


def test_sarif_required_keys_with_jsonschema():
    jsonschema = pytest.importorskip("jsonschema")
    message = {"type": "object", "required": ["text"]}
    schema = {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "version": {"const": "2.1.0"},
            "runs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["tool", "results"],
                    "properties": {
                        "tool": {
                            "type": "object",
                            "required": ["driver"],
                            "properties": {"driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {"rules": {"type": "array", "items": {
                                    "type": "object", "required": ["id"]}}},
                            }},
                        },
                        "results": {"type": "array", "items": {
                            "type": "object",
                            "required": ["ruleId", "ruleIndex", "level", "message", "locations"],
                            "properties": {
                                "message": message,
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "locations": {"type": "array", "minItems": 1, "items": {
                                    "type": "object",
                                    "required": ["physicalLocation"],
                                    "properties": {"physicalLocation": {
                                        "type": "object",
                                        "required": ["artifactLocation", "region"],
                                        "properties": {"region": {
                                            "type": "object",
                                            "properties": {k: {"type": "integer", "minimum": 1} for k in
                                                           ("startLine", "startColumn", "endLine", "endColumn")},
                                        }},
                                    }},
                                }},
                            },
                        }},
                        "invocations": {"type": "array", "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {"toolExecutionNotifications": {"type": "array", "items": {
                                "type": "object", "required": ["message"],
                                "properties": {"message": message}}}},
                        }},
                    },
                },
            },
        },
    }
    jsonschema.validate(_sarif(_result()), schema)
    jsonschema.validate(_sarif(RunResult()), schema)


# ---------------------------------------------------------------- github

GITHUB_GOLDEN = [
    "::error file=docs/api/callback.md,line=3,col=5,endLine=3,endColumn=12,title=schema"
    "::value 7 is not one of [0, 1, 2]",
    # Spans more than one line: GitHub takes columns only within one line, so they are left out.
    "::warning file=docs/api/callback.md,line=10,endLine=12,title=token-expired"
    "::token expired: exp 1700000000 is 100%25 past%0Asee RFC 7519, section 4.1.4",
    "::notice file=docs/api/callback.md,line=20,col=3,endLine=20,endColumn=40,title=token-unpaired"
    "::token has no example to compare with",
    "::error file=docs/guide/ünïcode.md,line=7,col=9,endLine=7,endColumn=30,title=token-signature"
    "::signature does not verify",
    "::warning::no secret configured for role 'inbox'",
    "::notice::secret for role 'editor' is shorter than 32 bytes",
    "2 errors, 1 warning, 1 info in 3 pages",
]


def test_github_golden():
    assert REPORTERS["github"](_result()) == "\n".join(GITHUB_GOLDEN) + "\n"


def test_github_escapes_properties_and_message():
    f = _one(path="docs/a,b:c%d.md", loc=Location(2, 3, 2, 4), message="50%: a,b\r\nc::d")
    out = REPORTERS["github"](RunResult(findings=[f], pages=["docs/a,b:c%d.md"]))
    assert out.splitlines() == [
        "::error file=docs/a%2Cb%3Ac%25d.md,line=2,col=3,endLine=2,endColumn=4,title=schema"
        "::50%25: a,b%0D%0Ac::d",
        "1 error, 0 warnings, 0 infos in 1 page",
    ]


def test_github_no_findings():
    assert REPORTERS["github"](RunResult(pages=["a.md"])) == "no problems in 1 page\n"


# ---------------------------------------------------------------- junit

def _junit(result: RunResult, **options) -> ET.Element:
    out = REPORTERS["junit"](result, **options)
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(out.encode("utf-8"))


def test_junit_structure():
    root = _junit(_result(), fail_on="warning")  # warnings fail (the default, fail_on error: tests/test_report_ci.py)
    assert root.tag == "testsuites" and root.get("name") == "oo-jwt"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "oo-jwt"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [CALLBACK, UNICODE, INDEX]
    assert all(c.get("classname") == "oo-jwt" for c in cases)
    for el in (root, suite):
        assert el.get("tests") == "3"
        assert el.get("failures") == "2"  # pages with at least one failure

    callback, unicode_page, index = cases
    failures = callback.findall("failure")
    assert [f.get("type") for f in failures] == ["schema", "token-expired"]
    assert failures[0].get("message") == "value 7 is not one of [0, 1, 2]"
    assert failures[0].text == "3:5 error schema value 7 is not one of [0, 1, 2]"
    assert failures[1].get("message") == TRICKY
    assert failures[1].text == f"10:1 warning token-expired {TRICKY}"
    assert callback.find("system-out").text == "20:3 info token-unpaired token has no example to compare with"

    assert [f.get("type") for f in unicode_page.findall("failure")] == ["token-signature"]
    assert list(index) == []  # a page without findings passes

    assert suite.find("system-out").text.splitlines() == [
        "warning: no secret configured for role 'inbox'",
        "note: secret for role 'editor' is shorter than 32 bytes",
    ]


def test_junit_info_only_page_passes():
    root = _junit(RunResult(findings=[_one(severity=Severity.INFO)], pages=["a.md", "b.md"]))
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert suite.find("testcase").find("failure") is None


def test_junit_survives_characters_xml_cannot_hold():
    # shown as escapes, not dropped: XML 1.0 has no way to hold NUL or ESC
    root = _junit(RunResult(findings=[_one(message="bad \x00\x1b byte \ufffe")], pages=["a.md"]))
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == "bad \\x00\\x1b byte \\ufffe"


def test_junit_empty_run():
    root = _junit(RunResult())
    assert root.get("tests") == "0" and root.get("failures") == "0"


# ---------------------------------------------------------------- what any output can carry

# A page named with the byte 0xFF (as Python holds it: surrogateescape), a message quoting an
# example's lone "\ud800", Cyrillic, an ESC sequence and a bidi override.
HOSTILE = RunResult(
    findings=[_one(path="docs/p\udcffage.md", message="key '\ud800' \u043a\u043b\u044e\u0447 \x1b[2J \u202eevil",
                   pointer="/\ud800", flow="callback")],
    notices=[Notice(Severity.WARNING, "note \udcfe \u2028 \u043a")],
    pages=["docs/p\udcffage.md"],
)


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_machine_formats_are_ascii_whatever_they_hold(fmt):
    out = REPORTERS[fmt](HOSTILE)
    assert out.isascii()  # any stdout encoding carries it, and it is UTF-8 as JSON and the XML declaration say
    if fmt == "junit":
        strings = [s for el in _junit(HOSTILE).iter() for s in (el.text or "", *el.attrib.values())]
    else:
        strings = []
        stack = [json.loads(out)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                strings += value.keys()
                stack += value.values()
            elif isinstance(value, list):
                stack += value
            elif isinstance(value, str):
                strings.append(value)
    # no lone surrogate: strict JSON readers (serde_json) refuse an unpaired \\udcff escape
    assert not [s for s in strings if re.search("[\ud800-\udfff]", s)]


def test_json_keeps_values_exact_but_escapes_lone_surrogates():
    (f,) = json.loads(REPORTERS["json"](HOSTILE))["findings"]
    assert f["path"] == "docs/p\\xffage.md"  # the undecodable byte, as Python's backslashreplace shows it
    assert f["pointer"] == "/\\ud800"
    assert f["message"] == "key '\\ud800' \u043a\u043b\u044e\u0447 \x1b[2J \u202eevil"  # the rest exact, for programs


def test_sarif_uri_holds_the_file_names_bytes():
    doc = _sarif(HOSTILE)
    (res,) = doc["runs"][0]["results"]
    uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "docs/p%FFage.md"
    assert res["message"]["text"] == "key '\\ud800' \u043a\u043b\u044e\u0447 \\x1b[2J \\u202eevil"
    assert re.fullmatch(r"[0-9a-f]{64}", res["partialFingerprints"]["ooJwtFinding/v1"])


def test_sarif_fingerprint_of_plain_text_is_unchanged():
    """Fingerprints match earlier runs' (code scanning keys alerts on them): sha256 of the UTF-8."""
    f = _one(path="docs/ünï.md", message="é ✓", pointer="/a")
    want = hashlib.sha256("\0".join([f.rule, f.path, "/a", f.message]).encode("utf-8")).hexdigest()
    assert _sarif(RunResult(findings=[f]))["runs"][0]["results"][0]["partialFingerprints"]["ooJwtFinding/v1"] == want


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_people_formats_encode_in_utf8_and_show_hazards_as_escapes(fmt):
    out = REPORTERS[fmt](HOSTILE)
    out.encode("utf-8")  # no lone surrogate left
    assert "p\\xffage.md" in out and "\u043a\u043b\u044e\u0447" in out
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\u2028" in out and "\\ud800" in out
    assert "\x1b" not in out and "\u202e" not in out and "\u2028" not in out


def test_junit_keeps_non_ascii_as_character_references():
    root = _junit(HOSTILE)
    (case,) = root.iter("testcase")
    assert case.get("name") == "docs/p\\xffage.md"
    assert "\u043a\u043b\u044e\u0447" in case.find("failure").get("message")


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        # NFC and NFD of the same text: the decomposed one is shown escaped
        ('has "Caf\u00e9", token has "Cafe\u0301"', 'has "Caf\u00e9", token has "Cafe\\u0301"'),
        ("\u212b vs \u00c5", "\\u212b vs \u00c5"),  # ANGSTROM SIGN, a singleton NFC replaces
        ("\u1100\u1161 vs \uac00", "\\u1100\\u1161 vs \uac00"),  # Hangul as jamo, and composed
        # text that is in NFC stays as written: scripts with combining marks, ZWJ emoji, ZWNJ
        ("\u0939\u093f\u0928\u094d\u0926\u0940 Ti\u1ebfng Vi\u1ec7t", "\u0939\u093f\u0928\u094d\u0926\u0940 Ti\u1ebfng Vi\u1ec7t"),
        ("\U0001f469\u200d\U0001f4bb \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\U0001f469\u200d\U0001f4bb \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
        # invisible or reordering characters, line separators, C1 controls
        ("a\u200bb\ufeffc\u00add\u2066e\u2069", "a\\u200bb\\ufeffc\\xadd\\u2066e\\u2069"),
        ("a\u2028b\u2029c\x85d\x9be\x7f", "a\\u2028b\\u2029c\\x85d\\x9be\\x7f"),
        ("tab\tkept", "tab\tkept"),
    ],
)
def test_text_shows_what_would_look_identical_or_hide(message, shown):
    out = REPORTERS["text"](RunResult(findings=[_one(message=message)], pages=["a.md"]))
    assert out.splitlines()[0] == f"a.md:1:1: error schema {shown}"
