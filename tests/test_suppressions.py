"""Suppressions that stay honest (issue 16, item 3): a directive that suppresses nothing is
reported, a mistyped one is reported (never dropped in silence), a reason is kept in the JSON and
SARIF reports, and ``oo-jwt check --add-ignore`` adds exactly the directive lines it needs."""

from __future__ import annotations

import json
import os

import jwt
import pytest

SECRET = "oo-jwt-test-secret-0123456789abcdef"

LEAD = 'Sample parameters of the request to the "callbackUrl" address by the document editing service:\n\n'


def callback(status: int = 4, above: str = "", title: str = "Callback") -> str:
    """A callback example (status 5 breaks its schema), with ``above`` right above its block."""
    return f'## {title}\n\n{LEAD}{above}```json\n{{"key": "Khirz6zTPdfd7", "status": {status}}}\n```\n\n'


def signed_token(payload: dict, secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, "HS256")


def check_json(run, *argv: str) -> tuple[int, dict]:
    rc, out, _ = run("check", "--no-cache", "--format", "json", *argv)
    return rc, json.loads(out)


def found(report: dict) -> list[tuple[str, int]]:
    return [(f["rule"], f["line"]) for f in report["findings"]]


# ------------------------------------------------------------------ unused-suppression


def test_a_directive_that_suppresses_nothing_is_reported_at_its_line(env, run):
    page = env / "page.md"
    page.write_text("# Callback\n\n" + callback(4, "<!-- oo-jwt: ignore rule=schema -->\n")
                    + callback(4, "<!-- oo-jwt: ignore -->\n", "Clean too") + callback(5, "<!-- oo-jwt: ignore -->\n", "Legacy"))
    rc, report = check_json(run, str(page))
    assert found(report) == [("unused-suppression", 7), ("unused-suppression", 16)]
    assert {f["severity"] for f in report["findings"]} == {"warning"}
    assert rc == 0  # a warning: the gate fails on it only with fail_on = "warning"
    # the ignore of every rule above the broken example hides its schema error, which is listed
    assert [(f["rule"], f["line"], f["suppressed"]) for f in report["suppressed"]] == [
        ("schema", 27, {"line": 25, "reason": None})]
    assert run("check", "--no-cache", "--fail-on", "warning", str(page))[0] == 1


def test_disable_enable_and_end_of_page(env, run):
    page = env / "page.md"
    page.write_text("# Callback\n\n<!-- oo-jwt: disable rule=json-duplicate-key -->\n\n" + callback(4)
                    + "<!-- oo-jwt: enable rule=json-duplicate-key -->\n\n<!-- oo-jwt: enable -->\n\n"
                    "<!-- oo-jwt: disable -->\n\n" + callback(5, title="Legacy") + "<!-- oo-jwt: ignore rule=schema -->\n")
    rc, report = check_json(run, str(page))
    # the first disable hides nothing; the bare enable ends nothing; the last ignore has no block
    # after it; the last disable (to the end of the page) hides the legacy example's error
    assert found(report) == [("unused-suppression", 3), ("unused-suppression", 15), ("unused-suppression", 27)]
    assert [(f["rule"], f["line"], f["suppressed"]["line"]) for f in report["suppressed"]] == [("schema", 24, 17)]
    assert "ends no disable" in report["findings"][1]["message"]
    assert "no block after it" in report["findings"][2]["message"]


def test_a_directive_above_a_table_is_used_by_any_of_its_rows(env, run):
    good, stale = signed_token({"key": "k1", "status": 4}), signed_token({"key": "k1", "status": 4}, "x" * 32)
    table = ("| status | example | token |\n| --- | --- | --- |\n"
             f'| closed | `{{"key": "k1", "status": 4}}` | `{good}` |\n'
             f'| saved | `{{"key": "k1", "status": 4}}` | `{stale}` |\n\n')
    page = env / "page.md"
    page.write_text(f"# Callback\n\n{LEAD}<!-- oo-jwt: ignore rule=token-signature -->\n{table}")
    rc, report = check_json(run, str(page))
    assert report["findings"] == [] and rc == 0
    assert [f["rule"] for f in report["suppressed"]] == ["token-signature"]


def test_disabled_rules_and_the_settings(env, run):
    page = env / "page.md"
    page.write_text("# Callback\n\n" + callback(4, "<!-- oo-jwt: ignore rule=token-expired -->\n"))
    _, report = check_json(run, "--disable", "token-expired", str(page))
    assert found(report) == [("unused-suppression", 7)]
    assert "turned off by the settings" in report["findings"][0]["message"]
    _, report = check_json(run, "--disable", "unused-suppression", str(page))
    assert report["findings"] == []


def test_the_reason_is_kept_and_survives_the_cache(env, run):
    page = env / "page.md"
    page.write_text("# Callback\n\n" + callback(5, '<!-- oo-jwt: ignore rule=schema reason="a legacy server sends 5" -->\n'))
    cold = run("check", "--format", "json", str(page))
    warm = run("check", "--format", "json", str(page))  # from the cache
    assert cold == warm
    report = json.loads(warm[1])
    assert report["findings"] == [] and report["summary"]["suppressed"] == 1
    (hidden,) = report["suppressed"]
    assert hidden["rule"] == "schema" and hidden["line"] == 9
    assert hidden["suppressed"] == {"line": 7, "reason": "a legacy server sends 5"}
    sarif = json.loads(run("check", "--format", "sarif", str(page))[1])
    (result,) = sarif["runs"][0]["results"]
    assert result["suppressions"][0]["kind"] == "inSource"
    assert result["suppressions"][0]["justification"] == "a legacy server sends 5"


# ------------------------------------------------------------------ directive-invalid


@pytest.mark.parametrize(("directive", "says"), [
    ("<!-- oo-jwt ignore -->", "the colon is missing"),
    ("<!-- oo-jwt-ignore -->", "the colon is missing"),
    ("<!-- oo-jwt: ignroe -->", "did you mean 'ignore'"),
    ("<!-- oo-jwt: Ignore -->", "lower case"),
    ("<!-- oo-jwt: ignore rule=token-sig -->", "did you mean 'token-signature'"),
    ("<!-- oo-jwt: ignore rules=schema,nope -->", "unknown rule id 'nope'"),
    ("<!-- oo_jwt: ignore -->", "starts with 'oo-jwt:'"),
    ("<!-- oo-jwt: flow=calback -->", "did you mean 'callback'"),
    ("<!-- oo-jwt: flow=callback ignore -->", "its own comment"),
    ("<!-- oo-jwt: ignore disable -->", "its own comment"),
    ("<!-- oo-jwt: ignore reson=\"x\" -->", "did you mean 'reason'"),
    ("<!-- oo-jwt: -->", "nothing to do"),
    ("<!-- oo-jwt: enable reason=\"x\" -->", "reason= belongs"),
])
def test_a_mistyped_directive_is_an_error_and_is_not_applied(env, run, directive, says):
    page = env / "page.md"
    page.write_text("# Callback\n\n" + callback(5, directive + "\n"))
    rc, report = check_json(run, str(page))
    # the example is still checked (its schema error shown), unless the directive named its flow
    unchecked = "flow=" in directive and "ignore" not in directive
    assert [f["rule"] for f in report["findings"]] == ["directive-invalid"] + ([] if unchecked else ["schema"])
    invalid = report["findings"][0]
    assert (invalid["line"], invalid["column"], invalid["severity"]) == (7, 1, "error")
    assert says in invalid["message"]
    assert rc == 1


def test_other_comments_are_not_ours(env, run):
    """A name that only starts with oo-jwt (the pre-commit hook oo-jwt-fix, a cache folder) is
    another word: not a directive, so not a misspelt one either."""
    page = env / "page.md"
    page.write_text("# Callback\n\n<!-- TODO: ignore this -->\n<!-- oo-jwt-like tools: none -->\n"
                    "<!-- oo-jwt-fix hook runs here -->\n<!-- oo_jwt_cache is ignored -->\n\n" + callback(4))
    rc, report = check_json(run, str(page))
    assert (rc, report["findings"]) == (0, [])


def test_a_mistyped_enable_under_a_disable_cannot_hide_itself(env, run):
    """The trap: a disable, then an enable that ends nothing (or cannot be read) leaves the rest of
    the page unchecked. The directive is reported, and a disable cannot suppress that report."""
    for enable in ("<!-- oo-jwt: enabel -->", "<!-- oo-jwt: enable rule=schema -->"):
        page = env / "page.md"
        page.write_text("# Callback\n\n<!-- oo-jwt: disable -->\n\n" + callback(5, title="Legacy") + enable + "\n\n"
                        + callback(5, title="Current"))
        rc, report = check_json(run, str(page))
        assert found(report) == [("directive-invalid", 13)], enable
        assert rc == 1
        assert [f["line"] for f in report["suppressed"]] == [10, 20]  # still disabled: listed, not read


def test_directive_findings_in_every_front_end_agree(env, run):
    """The engine makes them: what the command reports, the explain command sees too."""
    page = env / "page.md"
    page.write_text("# Callback\n\n" + callback(4, "<!-- oo-jwt: ignroe -->\n"))
    rc, out, _ = run("explain", str(page))
    assert "directive-invalid" in out


# ------------------------------------------------------------------ --add-ignore


BROKEN = ("# Callback\n\n" + callback(5) + "## Token\n\n" + LEAD + '```json\n{"key": "Khirz6zTPdfd7", "status": 4}\n```\n\n'
          "Sample token:\n\n```\n" + signed_token({"key": "Khirz6zTPdfd7", "status": 4}, "y" * 32) + "\n```\n")


def _added_lines(before: bytes, after: bytes) -> list[bytes]:
    """The lines ``after`` has that ``before`` lacks, checking that nothing else changed."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added, i = [], 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
        else:
            added.append(line)
    assert i == len(old), "a line of the page changed or went"
    return added


def test_add_ignore_adds_exactly_the_directives_and_is_idempotent(env, run):
    page = env / "docs" / "page.md"
    page.parent.mkdir()
    page.write_bytes(BROKEN.encode())
    mode = 0o640
    page.chmod(mode)
    rc, out, err = run("check", "--no-cache", "--add-ignore", "docs")
    assert rc == 0, out
    assert "added 2 ignore directives to 1 page" in err
    after = page.read_bytes()
    assert _added_lines(BROKEN.encode(), after) == [
        b"<!-- oo-jwt: ignore rule=schema -->\n", b"<!-- oo-jwt: ignore rule=token-signature -->\n"]
    assert after.index(b"<!-- oo-jwt: ignore rule=schema -->\n```json") > 0  # right above the block
    assert out.splitlines()[-1] == "no problems in 1 page"
    assert os.stat(page).st_mode & 0o777 == mode  # written as fix writes: the mode kept
    assert [p.name for p in page.parent.iterdir()] == ["page.md"]  # no temporary file left
    rc, _, err = run("check", "--no-cache", "--add-ignore", "docs")
    assert page.read_bytes() == after and "added 0 ignore directives" in err and rc == 0


def test_add_ignore_keeps_crlf_bom_and_containers(env, run):
    text = ("# Callback\n\n" + LEAD + "> Quoted:\n>\n> ```json\n> {\"key\": \"k\", \"status\": 5}\n> ```\n\n"
            "1. In a list:\n\n   ```json\n   {\"key\": \"k\", \"status\": 9}\n   ```\n\n"
            "Indented:\n\n    {\"key\": \"k\", \"status\": 5,}\n")
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    page = env / "page.md"
    page.write_bytes(data)
    rc, out, err = run("check", "--no-cache", "--add-ignore", str(page))
    after = page.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf")
    assert _added_lines(data, after) == [b"> <!-- oo-jwt: ignore rule=schema -->\r\n",
                                         b"   <!-- oo-jwt: ignore rule=schema -->\r\n",
                                         b"<!-- oo-jwt: ignore rule=json-syntax -->\r\n"]
    assert rc == 0 and out == "no problems in 1 page\n"
    run("check", "--no-cache", "--add-ignore", str(page))
    assert page.read_bytes() == after


def test_add_ignore_leaves_notes_and_what_no_directive_can_take(env, run):
    token = signed_token({"event": "ping"})
    page = env / "page.md"
    text = "# Webhooks\n\nEvery webhook delivery is signed. Sample token:\n\n```\n" + token + "\n```\n\n<!-- oo-jwt: ignroe -->\n"
    page.write_text(text)
    rc, _, err = run("check", "--no-cache", "--add-ignore", str(page))
    assert page.read_text() == text  # a note (flow-unknown) and a misread directive get no ignore
    assert "added 0 ignore directives" in err and rc == 1


def test_add_ignore_on_a_read_only_page_is_said(env, run):
    page = env / "page.md"
    page.write_bytes(BROKEN.encode())
    page.chmod(0o444)
    rc, _, err = run("check", "--no-cache", "--add-ignore", str(page))
    assert page.read_bytes() == BROKEN.encode()
    assert "read-only file" in err and rc == 1
