"""Attribution from evidence: a page's flow never depends on whether its example is valid, and
every kind of evidence works the same for the bundled flows and a user's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pagekit import SECRET_VARS


def check(paths, monkeypatch, capsys, *extra: str) -> tuple[int, list[dict]]:
    from mkdocs_oo_jwt.cli import main

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    capsys.readouterr()
    code = main(["check", "--no-cache", "--format", "json", *extra, *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)["findings"]


def page(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


EXAMPLES = {
    # (heading and lead-in in other words than any fixture, valid example, the same broken)
    "command": ("## Asking the service\n\nWhat to send when you want to know who edits the file:",
                {"c": "info", "key": "Khirz6zTPdfd7"}, {"c": "infoo", "key": "Khirz6zTPdfd7"}),
    "callback": ("## Step 4\n\nThe body posted to your handler:",
                 {"key": "Khirz6zTPdfd7", "status": 2, "url": "https://example.com/url-to-edited.docx",
                  "users": ["6d5a81d0"]},
                 {"key": "Khirz6zTPdfd7", "status": 99, "url": "https://example.com/url-to-edited.docx",
                  "users": ["6d5a81d0"]}),
    "conversion": ("## Example\n\nParameters:",
                   {"filetype": "docx", "key": "Khirz6zTPdfd7", "outputtype": "pdf",
                    "url": "https://example.com/url-to-example-document.docx"},
                   {"filetype": "docx", "key": "Khirz6zTPdfd7", "outputtype": 7,
                    "url": "https://example.com/url-to-example-document.docx"}),
}


@pytest.mark.parametrize("flow", sorted(EXAMPLES))
def test_a_broken_example_keeps_the_flow_of_the_valid_one(flow, tmp_path, monkeypatch, capsys):
    lead, valid, broken = EXAMPLES[flow]
    good = page(tmp_path / "a" / "page.md", f"# Notes\n\n{lead}\n\n```json\n{json.dumps(valid, indent=4)}\n```\n")
    bad = page(tmp_path / "b" / "page.md", f"# Notes\n\n{lead}\n\n```json\n{json.dumps(broken, indent=4)}\n```\n")
    code, findings = check([good], monkeypatch, capsys)
    assert (code, [f for f in findings if f["severity"] != "info"]) == (0, [])
    code, findings = check([bad], monkeypatch, capsys)
    assert code == 1
    assert [(f["rule"], f["flow"]) for f in findings if f["severity"] == "error"] == [("schema", flow)]


def test_the_pages_place_is_evidence(tmp_path, monkeypatch, capsys):
    """A translation keeps its file's path: ``command-service/version.md`` says command."""
    text = "# version\n\n请求 ONLYOFFICE 文档的版本号。\n\n## 请求示例\n\n```json\n{\n  \"c\": \"versio\"\n}\n```\n"
    placed = page(tmp_path / "docs" / "command-service" / "version.md", text)
    elsewhere = page(tmp_path / "docs" / "misc" / "page.md", text)
    _, findings = check([placed], monkeypatch, capsys)
    assert [(f["rule"], f["flow"], f["line"]) for f in findings] == [("schema", "command", 9)]
    _, findings = check([elsewhere], monkeypatch, capsys)
    assert findings == []  # one key of several flows, and nothing else: no flow, and not noted


def test_a_users_flow_is_attributed_as_the_bundled_ones_are(tmp_path, monkeypatch, capsys):
    """Words, names and keys of a flows folder's schema count as the bundled flows' do."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "thumbnail.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/flows/thumbnail.json",
        "x-oo-jwt": {"flow": "thumbnail", "role": "inbox", "transports": ["body"], "endpoints": [],
                     "methods": ["POST"], "words": ["thumbnail"], "names": ["makeThumbnail"]},
        "type": "object",
        "properties": {"first": {"type": "boolean"}, "aspect": {"type": "integer", "enum": [0, 1, 2]}},
        "required": ["aspect"],
    }), encoding="utf-8")
    docs = page(tmp_path / "docs" / "page.md", (
        "# Pictures\n\n## Small pictures\n\nCall `makeThumbnail` with:\n\n"
        "```json\n{\n    \"aspect\": 5,\n    \"first\": true\n}\n```\n"
    ))
    _, findings = check([docs], monkeypatch, capsys, "--flows-dir", str(flows))
    assert [(f["rule"], f["flow"], f["pointer"]) for f in findings] == [("schema", "thumbnail", "/aspect")]
