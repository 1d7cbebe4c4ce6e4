"""The reports CI users expect (issue 16, item 4), from real runs of ``oo-jwt check`` over pages
with findings (a suppressed one among them): GitLab Code Quality and SARIF validated against the
schemas GitLab and OASIS publish (vendored in tests/vendor/), fingerprints that survive lines
added above a finding, SARIF paths that resolve from a subfolder, JUnit ``file``/``line``,
``--statistics``, ``--output-file``, ``--quiet`` and ``oo-jwt rule``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import jwt
import pytest

from mkdocs_oo_jwt.catalog import EXAMPLES, EXAMPLE_WORDS, RULES

jsonschema = pytest.importorskip("jsonschema")

SECRET = "oo-jwt-test-secret-0123456789abcdef"
VENDOR = Path(__file__).parent / "vendor"
DEMO_SECRET = "oo-jwt-demo-docs-secret-2026-not-for-production"  # the README's; catalog.EXAMPLES are signed with it
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}  # GitLab's documented values

LEAD = 'Sample parameters of the request to the "callbackUrl" address by the document editing service:\n\n'


def block(example: str, token: str | None = None, above: str = "") -> str:
    page = f'{LEAD}{above}```json\n{example}\n```\n\n'
    return page + (f"Sample token:\n\n```\n{token}\n```\n\n" if token else "")


def tree(root: Path) -> Path:
    """A repository (``.git``) with docs/: a page with errors, one with only a warning, one whose
    error a directive suppresses (with a reason), and a clean one."""
    (root / ".git").mkdir()
    docs = root / "docs"
    (docs / "api").mkdir(parents=True)
    stale = jwt.encode({"key": "Khirz6zTPdfd7", "status": 4}, "another-secret-of-the-demo-server", "HS256")
    (docs / "api" / "errors.md").write_text(
        "# Callback\n\n" + block('{"key": "Khirz6zTPdfd7", "status": 5}') + block('{"key": "Khirz6zTPdfd7", "status": 4}', stale))
    (docs / "warned.md").write_text("# Callback\n\n" + block('{"key": "Khirz6zTPdfd7", "status": 4, "key": "Khirz6zTPdfd8"}'))
    (docs / "suppressed.md").write_text("# Callback\n\n" + block(
        '{"key": "Khirz6zTPdfd7", "status": 5}', above='<!-- oo-jwt: ignore rule=schema reason="a legacy server sends 5" -->\n'))
    (docs / "clean.md").write_text("# Callback\n\n" + block('{"key": "Khirz6zTPdfd7", "status": 4}'))
    return docs


def oo_jwt(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    """The real command, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")}
    env["OO_JWT_SECRET"] = SECRET
    return subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def validator(name: str):
    schema = json.loads((VENDOR / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# ------------------------------------------------------------------ GitLab Code Quality


def test_gitlab_code_quality_validates_against_gitlabs_schema(tmp_path):
    tree(tmp_path)
    done = oo_jwt(tmp_path, "check", "--no-cache", "--format", "gitlab", "docs")
    assert done.returncode == 1, done.stderr
    issues = json.loads(done.stdout)
    assert isinstance(issues, list)  # GitLab's parser reads an array of issues
    check = validator("gitlab-codequality.schema.json")
    for issue in issues:
        check.validate(issue)
        assert issue["severity"] in GITLAB_SEVERITIES
        assert issue["check_name"] in RULES and issue["description"]
    got = sorted((i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"], i["severity"]) for i in issues)
    assert got == [("docs/api/errors.md", 6, "schema", "major"), ("docs/api/errors.md", 18, "token-signature", "major"),
                   ("docs/warned.md", 6, "json-duplicate-key", "minor")]  # the suppressed one is not an issue
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_fingerprints_survive_lines_added_above(tmp_path):
    docs = tree(tmp_path)
    before = json.loads(oo_jwt(tmp_path, "check", "--no-cache", "--format", "gitlab", "docs").stdout)
    page = docs / "api" / "errors.md"
    page.write_text("# Callback\n\nA new paragraph,\nthree lines long,\nabove every example.\n\n" + page.read_text()[len("# Callback\n\n"):])
    after = json.loads(oo_jwt(tmp_path, "check", "--no-cache", "--format", "gitlab", "docs").stdout)
    assert sorted(i["location"]["lines"]["begin"] for i in after) != sorted(i["location"]["lines"]["begin"] for i in before)
    assert {i["fingerprint"] for i in after} == {i["fingerprint"] for i in before}
    # the same finding of another token is another finding
    stale2 = jwt.encode({"key": "Khirz6zTPdfd7", "status": 4}, "yet-another-secret-of-the-demo-server", "HS256")
    text = page.read_text()
    start = text.index("eyJ")
    page.write_text(text[:start] + stale2 + text[text.index("\n", start):])
    changed = json.loads(oo_jwt(tmp_path, "check", "--no-cache", "--format", "gitlab", "docs").stdout)
    signature = [i["fingerprint"] for i in changed if i["check_name"] == "token-signature"]
    assert signature and signature[0] not in {i["fingerprint"] for i in before}
    # and from a subfolder, the same paths and fingerprints
    sub = json.loads(oo_jwt(docs, "check", "--no-cache", "--format", "gitlab", ".").stdout)
    assert {(i["location"]["path"], i["fingerprint"]) for i in sub} == {(i["location"]["path"], i["fingerprint"]) for i in changed}


# ------------------------------------------------------------------ SARIF


def test_sarif_validates_against_the_oasis_schema_and_resolves_from_a_subfolder(tmp_path):
    docs = tree(tmp_path)
    done = oo_jwt(docs, "check", "--no-cache", "--format", "sarif", ".")  # run from docs/
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    validator("sarif-schema-2.1.0.json").validate(doc)
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.endswith("/") and Path(unquote(urlparse(base).path)) == tmp_path.resolve()
    uris = set()
    for result in run["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and not artifact["uri"].startswith(("/", "file:"))
        assert Path(unquote(urlparse(urljoin(base, artifact["uri"])).path)).is_file()  # it resolves
        uris.add(artifact["uri"])
    assert uris == {"docs/api/errors.md", "docs/warned.md", "docs/suppressed.md"}
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in suppressed] == [
        ("schema", "docs/suppressed.md")]
    (suppression,) = suppressed[0]["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["justification"] == "a legacy server sends 5"
    # the same run from the top folder gives the same uris and fingerprints
    top = json.loads(oo_jwt(tmp_path, "check", "--no-cache", "--format", "sarif", "docs").stdout)["runs"][0]
    key = lambda r: (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["partialFingerprints"]["ooJwtFinding/v1"])  # noqa: E731
    assert sorted(map(key, top["results"])) == sorted(map(key, run["results"]))


def test_sarif_outside_a_repository_is_still_valid(tmp_path):
    docs = tree(tmp_path)
    (tmp_path / ".git").rmdir()
    done = oo_jwt(docs, "check", "--no-cache", "--format", "sarif", "api/errors.md", str(docs / "warned.md"))
    doc = json.loads(done.stdout)
    validator("sarif-schema-2.1.0.json").validate(doc)  # the current folder is %SRCROOT% then
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"api/errors.md", "warned.md"}


# ------------------------------------------------------------------ JUnit


def _cases(xml: str) -> dict[str, ET.Element]:
    return {c.get("file"): c for c in ET.fromstring(xml.encode()).iter("testcase")}


def test_junit_cases_carry_file_and_line_and_warnings_pass_by_default(tmp_path):
    docs = tree(tmp_path)
    cases = _cases(oo_jwt(docs, "check", "--no-cache", "--format", "junit", ".").stdout)
    assert set(cases) == {"docs/api/errors.md", "docs/warned.md", "docs/suppressed.md", "docs/clean.md"}
    errors, warned = cases["docs/api/errors.md"], cases["docs/warned.md"]
    assert errors.get("line") == "6" and [f.get("type") for f in errors.iter("failure")] == ["schema", "token-signature"]
    assert warned.get("line") == "6" and warned.find("failure") is None  # fail_on = "error": a warning passes
    assert "json-duplicate-key" in warned.find("system-out").text
    assert cases["docs/clean.md"].get("line") is None and cases["docs/suppressed.md"].find("failure") is None
    failing = _cases(oo_jwt(docs, "check", "--no-cache", "--format", "junit", "--fail-on", "warning", ".").stdout)
    assert [f.get("type") for f in failing["docs/warned.md"].iter("failure")] == ["json-duplicate-key"]
    suite = ET.fromstring(oo_jwt(docs, "check", "--no-cache", "--format", "junit", ".").stdout.encode()).find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")


# ------------------------------------------------------------------ --statistics, --output-file, --quiet


def test_statistics(tmp_path):
    tree(tmp_path)
    (tmp_path / "docs" / "more.md").write_text("# Callback\n\n" + block('{"key": "k", "status": 9}') + block('{"key": "k", "status": 0}'))
    done = oo_jwt(tmp_path, "check", "--no-cache", "--statistics", "docs")
    tail = done.stdout.splitlines()[-5:]
    assert tail[0].endswith("in 5 pages")
    assert [line.split() for line in tail[1:]] == [["3", "schema", "error"], ["1", "json-duplicate-key", "warning"],
                                                   ["1", "token-signature", "error"], ["1", "finding", "suppressed", "by", "directives"]]
    done = oo_jwt(tmp_path, "check", "--no-cache", "--statistics", "--format", "json", "docs")
    json.loads(done.stdout)  # stdout stays one document: the statistics go to stderr
    assert "3  schema" in done.stderr


def test_output_file(tmp_path):
    tree(tmp_path)
    (tmp_path / "reports").mkdir()
    report = tmp_path / "reports" / "oo-jwt.json"
    report.write_text("an older report")
    done = oo_jwt(tmp_path, "check", "--no-cache", "--format", "json", "--output-file", "reports/oo-jwt.json", "docs")
    assert done.returncode == 1
    assert json.loads(report.read_text())["summary"]["errors"] == 2
    assert done.stdout == "2 errors, 1 warning, 0 infos in 4 pages (report in reports/oo-jwt.json)\n"
    assert sorted(p.name for p in report.parent.iterdir()) == ["oo-jwt.json"]  # no temporary file left
    assert report.stat().st_mode & 0o777 == 0o666 & ~_umask()
    quiet = oo_jwt(tmp_path, "check", "--no-cache", "--format", "json", "--output-file", "reports/oo-jwt.json", "--quiet", "docs")
    assert quiet.stdout == "" and quiet.returncode == 1
    missing = oo_jwt(tmp_path, "check", "--no-cache", "--output-file", "nowhere/report.txt", "docs")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("oo-jwt: error: cannot write the report to nowhere/report.txt: ")
    assert len(missing.stderr.splitlines()) == 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_quiet_prints_only_the_findings(tmp_path):
    tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")}  # no secret: a note
    loud = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "docs"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    quiet = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", "check", "--no-cache", "--quiet", "docs"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=300)
    assert "note: no secret configured" in loud.stdout and loud.stdout.splitlines()[-1].endswith("in 4 pages")
    assert quiet.stdout.splitlines() == [line for line in loud.stdout.splitlines() if line.startswith("docs/")]
    assert len(quiet.stdout.splitlines()) == 2 and quiet.returncode == loud.returncode == 1
    github = oo_jwt(tmp_path, "check", "--no-cache", "--quiet", "--format", "github", "docs")
    assert all(line.startswith("::") for line in github.stdout.splitlines())


# ------------------------------------------------------------------ oo-jwt rule


def test_rule_prints_its_doc_and_examples(tmp_path):
    done = oo_jwt(tmp_path, "rule", "token-signature")
    assert done.returncode == 0
    assert done.stdout.startswith(f"token-signature (error)\n\n{RULES['token-signature'].doc}\n")
    assert "Fails:" in done.stdout and "Passes:" in done.stdout
    assert "    Sample token:" in done.stdout  # the examples, indented
    words = oo_jwt(tmp_path, "rule", "page-unreadable")
    assert words.returncode == 0 and "Fails: A page saved as Latin-1" in words.stdout
    nope = oo_jwt(tmp_path, "rule", "nope")
    assert (nope.returncode, nope.stdout, nope.stderr) == (2, "", "oo-jwt: error: unknown rule 'nope' (`oo-jwt rules` lists them)\n")
    cut = oo_jwt(tmp_path, "rule", "token-sig")
    assert (cut.returncode, cut.stderr) == (2, "oo-jwt: error: unknown rule 'token-sig' (did you mean token-signature? "
                                               "`oo-jwt rules` lists them)\n")


def test_every_rule_has_examples_and_they_do_what_they_say(tmp_path, monkeypatch, capsys):
    """Each failing example gives its rule, and each passing one does not."""
    from mkdocs_oo_jwt.cli import main

    assert set(EXAMPLES) | set(EXAMPLE_WORDS) == set(RULES) and not set(EXAMPLES) & set(EXAMPLE_WORDS)
    for var in ("OO_JWT_SECRET", "OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", DEMO_SECRET)
    monkeypatch.chdir(tmp_path)
    problems = []
    for rule, (fails, passes) in EXAMPLES.items():
        for kind, text in (("fails", fails), ("passes", passes)):
            page = tmp_path / f"{rule}-{kind}.md"
            page.write_text(text)
            capsys.readouterr()
            main(["check", "--no-cache", "--format", "json", "--fail-on", "never", str(page)])
            rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
            if (rule in rules) != (kind == "fails"):
                problems.append(f"{rule}: the example that {kind} gives {sorted(rules)}")
    assert not problems, "\n".join(problems)
