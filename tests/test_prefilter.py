"""The prefilter: a page is parsed only if its bytes can hold a sample; every page that can is
checked (a page ruled out by mistake would be a silent hole in the check)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mkdocs_oo_jwt import engine
from mkdocs_oo_jwt.run import pipeline
from mkdocs_oo_jwt.run.checking import check_paths
from mkdocs_oo_jwt.settings import Settings

SECRET = "oo-jwt-test-secret-0123456789abcdef"

REQUEST = """# Notes

The request:

    POST {path} HTTP/1.1
    Host: documentserver
    Content-Type: application/json

    {{"filetype": "docx", "key": "k", "outputtype": "pdf"}}
"""


def run(tmp_path, pages: dict[str, str]) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(findings as (page, rule, line), the pages that were parsed), checked in process."""
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    parsed = []
    check_page = engine.check_page

    def spy(page, *args, **kwargs):
        parsed.append(page.path.rsplit("/", 1)[-1])
        return check_page(page, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(engine, "check_page", spy)
    try:
        result = check_paths([str(tmp_path)], Settings(), environ={}, jobs=1)
    finally:
        mp.undo()
    return [(f.path.rsplit("/", 1)[-1], f.rule, f.location.line) for f in result.findings], sorted(parsed)


@pytest.mark.parametrize(
    "path",
    ["/ConvertService.ashx", "/ConvertService.ashx?shardkey=k", "/converter/", "https://ds.example.com/converter",
     "/ConvertService.ashx#x", "/convertservice.ashx", "/CONVERTER"],  # attribution matches endpoints in any case
)
def test_a_request_to_an_endpoint_is_checked_with_no_other_mark(tmp_path, path):
    findings, parsed = run(tmp_path, {"a.md": REQUEST.format(path=path)})
    assert parsed == ["a.md"]
    assert findings == [("a.md", "schema", 9)]  # no "url"


@pytest.mark.parametrize(
    "text",
    [
        "See [the builder](https://api.onlyoffice.com/docbuilder/basic) and run `docbuilder.jar`.\n",
        "![result](/assets/images/docbuilder/result.png)\n",
        "A token is a string; the Authorization header carries a JWT.\n",
        "```js\nconst json = JSON.stringify(config);\n```\n",
        # "eyJ" inside base64 data, where no token can be (its run ends at "+", "/" or "=")
        "![logo](data:image/png;base64,iVBORw0KGgo+eyJUuPL88ocNrdlUqT8RIr+eTmZ8/jThC0eyJ0iRSZ=)\n",
        "```bash\necho 'AYW1xMv+eyJlUY4zbVNrfQ4R9rc/wN50eyJy4oL2wgSJb6==' | base64 -d\n```\n",
        # a "token" key whose value is no string: no token holder (its token is a string literal)
        '<Schema schema={{"token":{"type":"string","description":"The token."}}} />\n',
        '```python\nparams = {"key": TRELLO_API_KEY, "token": TRELLO_TOKEN}\n```\n',
    ],
)
def test_a_page_that_cannot_hold_a_sample_is_not_parsed(tmp_path, text):
    assert run(tmp_path, {"a.md": "# Page\n\n" + text}) == ([], [])


@pytest.mark.parametrize("path", ["/converter-old", "/ConvertService.ashx.bak"])
def test_a_request_to_another_path_is_parsed_as_an_http_message(tmp_path, path):
    """No endpoint of a flow, but an HTTP message: parsed; its body's keys still say conversion
    (against the path), and it lacks the url."""
    assert run(tmp_path, {"a.md": "# Page\n\n" + REQUEST.format(path=path)}) == ([("a.md", "schema", 11)], ["a.md"])


@pytest.mark.parametrize(
    "text",
    [
        "Sample token: eyJhbGciOiJIUzI1NiJ9.e30.x\n",
        "Sample token: eyJhbGciOiJIUzI1NiJ9\n",  # the beginning of a token broken over lines
        "Sample token: eyJhbGciOiJIUzI1NiJ9  \r\n",
        '```bash\ncurl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9" https://example.com\n```\n',
        # standard base64 with padding and "+" / "/" in both parts: a classic mistake, still a token
        '```bash\ncurl -H "Authorization: Bearer eyJhbGciOiAiSFMyNTYifQ==.eyJ1cmwiOiAiaHR0cHM6Ly9leC5jb20vYT9i+Yz0xIn0=.c2ln"\n```\n',
        "Sample token: `eyJhbGciOiJIUzI1NiJ9`\n",
        '```js\nconst config = {"token": "t"};\n```\n',
        "```js\nconst config = {'token': 't'};\n```\n",
        "```js\nconst config = {token: `t`};\n```\n",
        '```js\nconst config = {"token" :\n    "t"};\n```\n',
        '```python\nbody = {"c": "info", "token": f"{token}"}\n```\n',
        "<!-- oo-jwt: flow=conversion -->\n",
        "```json\n{}\n```\n",
        "``` json\n{}\n```\n",
        "~~~json\n{}\n~~~\n",
        "---\noo_jwt:\n  version: '7.1'\n---\n",
    ],
)
def test_each_mark_of_a_sample_gets_a_page_parsed(tmp_path, text):
    assert run(tmp_path, {"a.md": text})[1] == ["a.md"]


def test_a_run_from_a_program_with_threads_checks_in_process_with_the_same_findings(tmp_path):
    """A fork copies no other thread, nor the locks it holds: with threads running, no process is
    forked (a page read or checked in a forked process leaves a mark) and the findings are the same."""
    import threading

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(40):
        (docs / f"p{i:02}.md").write_text(REQUEST.format(path="/converter"), encoding="utf-8")
    main_pid = os.getpid()
    mark = tmp_path / "forked"

    def only_here(function):
        def wrapper(*args, **kwargs):
            if os.getpid() != main_pid:
                mark.touch()
            return function(*args, **kwargs)
        return wrapper

    def run(threads: bool):
        mp = pytest.MonkeyPatch()
        mp.setattr(engine, "check_page", only_here(engine.check_page))
        mp.setattr(pipeline, "read_bytes", only_here(pipeline.read_bytes))
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        if threads:
            other.start()
        try:
            return check_paths([str(docs)], Settings(), environ={}, jobs=2)
        finally:
            stop.set()
            if threads:
                other.join()
            mp.undo()

    alone = run(threads=False)
    assert mark.exists()  # the looker and checkers did run in forked processes
    mark.unlink()
    with_threads = run(threads=True)
    assert not mark.exists()
    assert [f.rule for f in with_threads.findings] == [f.rule for f in alone.findings] == ["schema"] * 40


# ------------------------------------------------------------------ the prefilter changes no finding

PAGES = Path(__file__).parent / "pages"

# what no earlier mark caught: examples the full check attributes on pages with no token, no json
# fence, no directive and no endpoint
HOLES = {
    "unlabelled.md": (
        "# Converting\n\n## Request to convert the document\n\n```\n"
        '{\n    "filetype": "docx",\n    "key": "k",\n    "outputtype": 7,\n    "url": "https://example.com/a.docx"\n}\n```\n'
    ),
    "indented.md": (
        "# Commands\n\nThe command service takes:\n\n"
        '    {\n        "c": "infoo",\n        "key": "k"\n    }\n'
    ),
    "http-callback.md": (
        "# Callback\n\n```http\nPOST /url-to-callback.ashx HTTP/1.1\nHost: example.com\n\n"
        '{\n    "key": "k",\n    "status": 5\n}\n```\n'
    ),
    "python-callback.md": (
        "# Testing the handler\n\n```python\nimport requests\n\nrequests.post(\"https://example.com/track\", "
        'json={"key": "k", "status": 5, "url": "https://example.com/a.docx"})\n```\n'
    ),
    "curl-callback.md": (
        "# Testing the handler\n\n```bash\ncurl -X POST https://example.com/track "
        "-d '{\"key\": \"k\", \"status\": 5}'\n```\n"
    ),
    "api-key.md": (
        "# Another API\n\n```\nGET /api/2.0/people/@self.json HTTP/1.1\nAuthorization: sdjhfskjdhkqy739459234\n```\n"
    ),
}


def _findings(paths: list[str], prefilter: bool) -> list[tuple]:
    mp = pytest.MonkeyPatch()
    if not prefilter:
        mp.setattr(pipeline, "may_hold_samples", lambda data, flows: True)
    try:
        result = check_paths(paths, Settings(), environ={"OO_JWT_SECRET": "oo-jwt-test-secret-0123456789abcdef"}, jobs=1)
    finally:
        mp.undo()
    return [(f.path, f.location, f.rule, f.severity, f.pointer, f.flow, f.message) for f in result.findings]


def test_the_prefilter_never_changes_a_finding(tmp_path_factory):
    """Every golden page (seeds, rules, real-world, generalisation...) and the pages that no mark
    caught before: the same findings, finding for finding, with the prefilter and without."""
    tmp_path = tmp_path_factory.mktemp("p")  # a folder whose name says nothing (a page's place is evidence)
    for name, text in HOLES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = sorted(str(p) for p in PAGES.rglob("*.md")) + sorted(str(tmp_path / name) for name in HOLES)
    without = _findings(paths, prefilter=False)
    assert _findings(paths, prefilter=True) == without
    found = {(Path(f[0]).name, f[2], f[5]) for f in without if Path(f[0]).parent == tmp_path}
    # (a request in code with no token, to no flow's endpoint, is another API's: no finding)
    assert found == {("unlabelled.md", "schema", "conversion"), ("indented.md", "schema", "command"),
                     ("http-callback.md", "schema", "callback")}, found
