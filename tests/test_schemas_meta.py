"""The flow schemas in schemas/: well-formed, linked through one registry, and true to the seed pages.

The payloads below are copied by hand from the five seed pages (their correct JSON examples, not the
defective sample tokens or the cURL body), so this test needs neither the network nor ../shared.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
import referencing
import referencing.jsonschema
from jsonschema import Draft202012Validator

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"
BASE = "https://mkdocs-oo-jwt.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

BROWSER_METHODS = [
    "insertImage",
    "refreshFile",
    "setHistoryData",
    "setMailMergeRecipients",
    "setReferenceData",
    "setReferenceSource",
    "setRequestedDocument",
    "setRequestedSpreadsheet",
    "setRevisedFile",
]

# flow id -> (role, token, transports, endpoints, methods)
EXPECTED_FLOWS: dict[str, tuple] = {
    "command": ("inbox", "jwt", ["header", "body"], ["/coauthoring/CommandService.ashx", "/command"], ["POST"]),
    "conversion": ("inbox", "jwt", ["header", "body"], ["/ConvertService.ashx", "/converter"], ["POST"]),
    "docbuilder": ("inbox", "jwt", ["header", "body"], ["/docbuilder"], ["POST"]),
    "callback": ("outbox", "jwt", ["header", "body"], [], ["POST"]),
    "download": ("outbox", "jwt", ["header"], [], ["GET"]),
    "changes-download": ("outbox", "jwt", ["header"], [], ["GET"]),
    "editor-config": ("browser", "jwt", ["browser"], [], []),
    **{m: ("browser", "jwt", ["browser"], [], []) for m in BROWSER_METHODS},
    "workspace-auth": (
        None,
        "opaque",
        ["header"],
        ["/api/2.0/authentication.json", "/api/2.0/authentication"],
        ["POST"],
    ),
}

META_REQUIRED = {"flow", "role", "token", "transports", "endpoints", "methods", "words", "names"}
META_OPTIONAL = {"since", "response", "prior", "response_keys"}


def _load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
ALL = {p.stem: _load(p) for p in SCHEMA_FILES}
FLOWS = {name: schema for name, schema in ALL.items() if name != "common"}


def _registry() -> referencing.Registry:
    # No retrieve function: every $ref must resolve inside schemas/.
    return referencing.Registry().with_resources(
        (schema["$id"], referencing.jsonschema.DRAFT202012.create_resource(schema)) for schema in ALL.values()
    )


REGISTRY = _registry()


def _validator(flow: str, pointer: str = "") -> Draft202012Validator:
    """The validator of a flow, or of one of its sub-schemas given by a '#/$defs/...' pointer.

    A sub-schema is applied by reference, through the registry, so its relative $refs keep the flow's base.
    """
    if not pointer:
        return Draft202012Validator(FLOWS[flow], registry=REGISTRY)
    return Draft202012Validator({"$schema": DRAFT, "$ref": FLOWS[flow]["$id"] + pointer}, registry=REGISTRY)


def _walk_refs(node: Any):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            elif k != "x-oo-jwt":
                yield from _walk_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_refs(v)


def _walk_keys(node: Any):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk_keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_keys(v)


# ---------------------------------------------------------------- the files themselves


def test_the_expected_files_exist():
    assert set(ALL) == set(EXPECTED_FLOWS) | {"common"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_wellformed(path: pathlib.Path):
    schema = _load(path)
    assert schema["$schema"] == DRAFT
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == BASE + path.name
    assert schema["$id"].endswith("/" + path.name)
    assert isinstance(schema.get("title"), str) and schema["title"]
    assert isinstance(schema.get("description"), str) and "\n" not in schema["description"]
    assert "seed" in schema["description"] or path.stem == "refreshFile"
    # permissive everywhere: never forbid extra properties
    for key, value in _walk_keys(schema):
        assert not (key == "additionalProperties" and value is False), path.name
        assert key != "unevaluatedProperties" or value is not False, path.name


def test_common_holds_definitions_only():
    common = ALL["common"]
    assert "x-oo-jwt" not in common
    assert {"url", "key", "fileType"} <= set(common["$defs"])
    for name in ("url", "key", "fileType"):
        assert common["$defs"][name]["type"] == "string"


@pytest.mark.parametrize("flow", sorted(EXPECTED_FLOWS))
def test_flow_shape(flow: str):
    schema = FLOWS[flow]
    assert schema["type"] == "object"
    assert isinstance(schema["properties"], dict)
    assert isinstance(schema["required"], list)
    assert set(schema["required"]) <= set(schema["properties"])


@pytest.mark.parametrize("flow", sorted(EXPECTED_FLOWS))
def test_vendor_metadata(flow: str):
    meta = FLOWS[flow]["x-oo-jwt"]
    assert META_REQUIRED <= set(meta) <= META_REQUIRED | META_OPTIONAL
    role, token, transports, endpoints, methods = EXPECTED_FLOWS[flow]
    assert meta["flow"] == flow
    assert meta["role"] == role
    assert meta["token"] == token
    assert meta["transports"] == transports
    assert meta["endpoints"] == endpoints
    assert meta["methods"] == methods

    assert meta["role"] in ("inbox", "outbox", "browser", None)
    assert meta["token"] in ("jwt", "opaque")
    assert meta["transports"] and set(meta["transports"]) <= {"header", "body", "browser"}
    assert len(set(meta["transports"])) == len(meta["transports"])
    assert all(isinstance(e, str) and e.startswith("/") for e in meta["endpoints"])
    assert set(meta["methods"]) <= {"GET", "POST", "PUT", "DELETE", "PATCH"}
    assert (meta["methods"] == []) == (meta["role"] == "browser")

    words, names = meta["words"], meta["names"]
    assert words and all(isinstance(w, str) and w == w.strip().lower() and w for w in words)
    assert len(set(words)) == len(words)
    assert all(isinstance(n, str) and re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", n) for n in names)
    if flow in BROWSER_METHODS:
        assert names == [flow]
    assert isinstance(meta.get("prior", 0), (int, float))

    for version, pointer in meta.get("since", {}).items():
        assert re.fullmatch(r"\d+(\.\d+)*", version)
        assert pointer.startswith("#/$defs/")
        assert pointer[len("#/$defs/"):] in FLOWS[flow]["$defs"]
    if "response" in meta:
        assert meta["response"].startswith("#/$defs/")
        assert meta["response"][len("#/$defs/"):] in FLOWS[flow]["$defs"]


def test_only_editor_config_has_since_and_only_workspace_auth_has_response():
    assert [f for f, s in FLOWS.items() if "since" in s["x-oo-jwt"]] == ["editor-config"]
    assert FLOWS["editor-config"]["x-oo-jwt"]["since"] == {"7.1": "#/$defs/signed-7.1"}
    assert [f for f, s in FLOWS.items() if "response" in s["x-oo-jwt"]] == ["workspace-auth"]
    assert FLOWS["workspace-auth"]["x-oo-jwt"]["response"] == "#/$defs/response"


def test_enums_as_documented():
    assert FLOWS["command"]["properties"]["c"]["enum"] == [
        "info", "drop", "forcesave", "meta", "version", "license",
        "getForgotten", "getForgottenList", "deleteForgotten",
    ]
    assert FLOWS["callback"]["properties"]["status"]["enum"] == [1, 2, 3, 4, 6, 7]
    assert FLOWS["setRequestedDocument"]["properties"]["c"]["enum"] == ["compare", "combine"]
    assert FLOWS["setRequestedSpreadsheet"]["properties"]["c"]["enum"] == ["mailmerge"]


# ---------------------------------------------------------------- the words and names of a sentence name one flow


def _attributed(sentence: str):
    """The attribution of a token that sits under ``sentence`` alone (no keys, no request)."""
    from mkdocs_oo_jwt.attribution import attribute_group
    from mkdocs_oo_jwt.flows import load_flows
    from mkdocs_oo_jwt.model import Span
    from mkdocs_oo_jwt.samples import Token, Where

    token = Token(Span(0, 0), "", "bare", Where(0, 0, (sentence,), (0, 1), nearness=(1.0,)))
    return attribute_group(load_flows(), None, (token,))


def test_every_flow_has_words_or_names_of_its_own():
    """Text can always tell two flows apart: no two share all their words and names."""
    from mkdocs_oo_jwt.words import stems_of_words

    seen = {}
    for flow, schema in FLOWS.items():
        meta = schema["x-oo-jwt"]
        vocabulary = (stems_of_words(meta["words"]), frozenset(meta["names"]))
        assert vocabulary not in seen, f"{flow} and {seen.get(vocabulary)} have the same words and names"
        seen[vocabulary] = flow


SEED_SENTENCES = [
    # seed 000 / 002 headings and lead-ins (the command's heading names no flow: its lead-in does)
    ("Validation is performed for incoming requests with the commands from the document storage service "
     "to the document command service.", "command"),
    ("[document command service](../../Command%20service/Command%20service.md)", "command"),
    ("Request to convert the document", "conversion"),
    ("Sample payload of request to convert the document", "conversion"),
    ("Request to document builder service", "docbuilder"),
    ("Sample of request to document builder service:", "docbuilder"),
    (
        'Request to "callbackUrl" address by document editing service when the last user closed the document '
        "for editing without changes",
        "callback",
    ),
    ("Request to document storage service for file download", "download"),
    ("Sample payload of request to document storage service for file download", "download"),
    ("Request to document storage service for document changes data download", "changes-download"),
    ("Sample of request to document storage service for document changes data download", "changes-download"),
    # seed 003
    ("Passing authentication", "workspace-auth"),
    ("Authentication Request:", "workspace-auth"),
    # seed 001 / 004
    ("Opening file", "editor-config"),
    (
        "When a file is opened for editing in ONLYOFFICE Docs, the token must be added to the configuration "
        "to validate the parameters.",
        "editor-config",
    ),
    ("insertImage - when calling the insertImage method to insert an image into the file", "insertImage"),
    ("When calling the setHistoryData method to view the document history version", "setHistoryData"),
    (
        "When calling the setMailMergeRecipients method to insert recipient data for mail merge into the file",
        "setMailMergeRecipients",
    ),
    (
        "setReferenceData - when calling the setReferenceData method to insert data into the spreadsheet by an "
        "external link",
        "setReferenceData",
    ),
    (
        "setReferenceSource - when calling the setReferenceSource method to change a source of the external data",
        "setReferenceSource",
    ),
    (
        "setRequestedDocument - when calling the setRequestedDocument method to select a document for comparing "
        "or combining",
        "setRequestedDocument",
    ),
    (
        "setRequestedSpreadsheet - when calling the setRequestedSpreadsheet method to insert recipient data for "
        "mail merge into the file",
        "setRequestedSpreadsheet",
    ),
    ("When calling the setRevisedFile method to select a document for comparing", "setRevisedFile"),
    ("docEditor.refreshFile(config);", "refreshFile"),
]


@pytest.mark.parametrize(("sentence", "flow"), SEED_SENTENCES, ids=[f for _, f in SEED_SENTENCES])
def test_seed_sentences_attribute_to_one_flow(sentence: str, flow: str):
    attribution = _attributed(sentence)
    assert attribution.flow is not None and attribution.flow.id == flow, attribution.scores
    assert not attribution.ambiguous, attribution.scores


TRANSLATED = [
    # a translation keeps link targets, anchors and method names: they alone name the flow
    ("当在 ONLYOFFICE 文档中[打开](/editors/open)文件进行编辑时，必须将[令牌](/editors/config/#token)添加到配置中。", "editor-config"),
    ("## 打开文件 {#opening-file}", "editor-config"),
    ("* **insertImage** - 调用 [insertImage](/editors/methods#insertImage) 方法将图片插入文件时", "insertImage"),
    ("Bei Anfragen an den [Konvertierungsdienst](../../Conversion%20API/Request.md) wird geprüft.", "conversion"),
    ("Запрос к [сервису команд](/editors/command/)", "command"),
]


@pytest.mark.parametrize(("sentence", "flow"), TRANSLATED, ids=[f for _, f in TRANSLATED])
def test_translated_sentences_attribute_by_links_and_names(sentence: str, flow: str):
    attribution = _attributed(sentence)
    assert attribution.flow is not None and attribution.flow.id == flow, attribution.scores


# ---------------------------------------------------------------- one registry, every $ref resolves


def test_every_ref_resolves_without_retrieval():
    for schema in ALL.values():
        resolver = REGISTRY.resolver(base_uri=schema["$id"])
        for ref in _walk_refs(schema):
            resolved = resolver.lookup(ref)
            assert isinstance(resolved.contents, dict), ref
    for flow, schema in FLOWS.items():
        meta = schema["x-oo-jwt"]
        for pointer in [*meta.get("since", {}).values(), *([meta["response"]] if "response" in meta else [])]:
            REGISTRY.resolver(base_uri=schema["$id"]).lookup(pointer)


def test_an_unknown_ref_is_not_fetched():
    validator = Draft202012Validator({"$ref": BASE + "no-such-flow.json"}, registry=REGISTRY)
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.validate({})


def test_refs_are_followed():
    # common.json#/$defs/url is a string: the ref through the registry must be applied.
    errors = list(_validator("download").iter_errors({"url": 42}))
    assert errors and errors[0].json_path == "$.url"


# ---------------------------------------------------------------- payloads from the seeds

DOC_URL = "https://example.com/url-to-example-document.docx"

SEED_001_EDITOR_CONFIG = {
    "document": {
        "fileType": "docx",
        "key": "Khirz6zTPdfd7",
        "permissions": {"download": True, "edit": True, "print": True, "review": True},
        "title": "Example Document Title.docx",
        "url": DOC_URL,
    },
    "editorConfig": {
        "callbackUrl": "https://example.com/url-to-callback.ashx",
        "mode": "edit",
        "user": {"id": "78e1e841", "name": "Smith"},
    },
}

SEED_004_EDITOR_CONFIG = {
    "document": {
        "key": "Khirz6zTPdfd7",
        "permissions": {
            "comment": True,
            "commentGroups": {"edit": ["Group2", ""], "remove": [""], "view": ""},
            "copy": True,
            "deleteCommentAuthorOnly": False,
            "download": True,
            "edit": True,
            "editCommentAuthorOnly": False,
            "fillForms": True,
            "modifyContentControl": True,
            "modifyFilter": True,
            "print": True,
            "review": True,
            "reviewGroups": ["Group1", "Group2", ""],
        },
        "url": DOC_URL,
    },
    "editorConfig": {
        "callbackUrl": "https://example.com/url-to-callback.ashx",
        "mode": "edit",
        "user": {"group": "Group1", "id": "78e1e841", "name": "Smith"},
    },
}

REFERENCE = {
    "fileType": "xlsx",
    "path": "sample.xlsx",
    "referenceData": {"fileKey": "BCFA2CED", "instanceId": "https://example.com", "key": "Khirz6zTPdfd7"},
    "url": "https://example.com/url-to-example-document.xlsx",
}

HISTORY = {
    "changesUrl": "https://example.com/url-to-changes.zip",
    "key": "Khirz6zTPdfd7",
    "previous": {
        "key": "af86C7e71Ca8",
        "url": "https://example.com/url-to-the-previous-version-of-the-document.docx",
    },
    "url": DOC_URL,
    "version": 2,
}

CONVERSION = {
    "filetype": "docx",
    "key": "Khirz6zTPdfd7",
    "outputtype": "pdf",
    "title": "Example Document Title.docx",
    "url": DOC_URL,
}


def _without(d: dict, *path: str) -> dict:
    d = json.loads(json.dumps(d))
    node = d
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    return d


# (id, flow, sub-schema pointer or "", payload)
VALID = [
    ("000-command", "command", "", {"c": "info", "key": "Khirz6zTPdfd7"}),
    ("command-version-without-key", "command", "", {"c": "version"}),
    ("000-conversion", "conversion", "", CONVERSION),
    ("000-docbuilder", "docbuilder", "", {"async": True, "url": "https://example.com/url-to-example-script.docbuilder"}),
    ("000-callback", "callback", "", {"key": "Khirz6zTPdfd7", "status": 4}),
    ("000-download", "download", "", {"url": DOC_URL}),
    ("000-changes-download", "changes-download", "", {"url": "https://example.com/url-to-document-changes.zip"}),
    ("001-editor-config", "editor-config", "", SEED_001_EDITOR_CONFIG),
    ("004-editor-config", "editor-config", "", SEED_004_EDITOR_CONFIG),
    ("004-editor-config-7.1", "editor-config", "#/$defs/signed-7.1", SEED_004_EDITOR_CONFIG),
    ("editor-config-extra-properties", "editor-config", "",
     {**SEED_001_EDITOR_CONFIG, "documentType": "word", "type": "desktop"}),
    ("001-insertImage", "insertImage", "", {"fileType": "png", "url": "https://example.com/url-to-example-image.png"}),
    ("004-insertImage", "insertImage", "",
     {"c": "add", "images": [{"fileType": "png", "url": "https://example.com/url-to-example-image.png"}]}),
    ("refreshFile", "refreshFile", "",
     {"document": {"key": "Khirz6zTPdfd7", "url": DOC_URL}, "editorConfig": {"mode": "edit"}}),
    ("refreshFile-empty", "refreshFile", "", {}),
    ("001-setHistoryData", "setHistoryData", "", HISTORY),
    ("001-setMailMergeRecipients", "setMailMergeRecipients", "",
     {"fileType": "xlsx", "url": "https://example.com/url-to-example-recipients.xlsx"}),
    ("004-setReferenceData", "setReferenceData", "", REFERENCE),
    ("004-setReferenceSource", "setReferenceSource", "", REFERENCE),
    ("004-setRequestedDocument", "setRequestedDocument", "", {"c": "compare", "fileType": "docx", "url": DOC_URL}),
    ("setRequestedDocument-combine", "setRequestedDocument", "", {"c": "combine", "fileType": "docx", "url": DOC_URL}),
    ("004-setRequestedSpreadsheet", "setRequestedSpreadsheet", "",
     {"c": "mailmerge", "fileType": "xlsx", "url": "https://example.com/url-to-example-recipients.xlsx"}),
    ("001-setRevisedFile", "setRevisedFile", "", {"fileType": "docx", "url": DOC_URL}),
    ("003-workspace-auth", "workspace-auth", "", {"userName": "yourusername", "password": "yourpassword"}),
    ("003-workspace-auth-response", "workspace-auth", "#/$defs/response", {
        "count": 1,
        "response": {"expires": "2010-07-07T17:06:03.5845502+03:00", "token": "sdjhfskjdhkqy739459234"},
        "status": 0,
        "statusCode": 201,
    }),
]

INVALID = [
    ("command-c-nope", "command", "", {"c": "nope", "key": "Khirz6zTPdfd7"}),
    ("command-without-c", "command", "", {"key": "Khirz6zTPdfd7"}),
    ("command-key-not-string", "command", "", {"c": "info", "key": 7}),
    ("conversion-without-url", "conversion", "", _without(CONVERSION, "url")),
    ("conversion-without-outputtype", "conversion", "", _without(CONVERSION, "outputtype")),
    ("docbuilder-async-string", "docbuilder", "",
     {"async": "true", "url": "https://example.com/url-to-example-script.docbuilder"}),
    ("callback-status-5", "callback", "", {"key": "Khirz6zTPdfd7", "status": 5}),
    ("callback-status-string", "callback", "", {"key": "Khirz6zTPdfd7", "status": "4"}),
    ("callback-without-key", "callback", "", {"status": 4}),
    ("download-without-url", "download", "", {}),
    ("changes-download-url-not-string", "changes-download", "", {"url": ["https://example.com/a.zip"]}),
    ("001-editor-config-under-7.1", "editor-config", "#/$defs/signed-7.1", SEED_001_EDITOR_CONFIG),
    ("004-editor-config-7.1-without-group", "editor-config", "#/$defs/signed-7.1",
     _without(SEED_004_EDITOR_CONFIG, "editorConfig", "user", "group")),
    ("004-editor-config-7.1-without-view", "editor-config", "#/$defs/signed-7.1",
     _without(SEED_004_EDITOR_CONFIG, "document", "permissions", "commentGroups", "view")),
    ("editor-config-without-key", "editor-config", "", _without(SEED_001_EDITOR_CONFIG, "document", "key")),
    ("editor-config-without-document", "editor-config", "", {"editorConfig": {"mode": "edit"}}),
    ("editor-config-permission-not-boolean", "editor-config", "",
     {"document": {"key": "k", "url": DOC_URL, "permissions": {"edit": "yes"}}}),
    ("insertImage-neither-form", "insertImage", "", {"c": "add"}),
    ("insertImage-image-without-url", "insertImage", "", {"c": "add", "images": [{"fileType": "png"}]}),
    ("refreshFile-document-not-object", "refreshFile", "", {"document": "docx"}),
    ("setHistoryData-version-string", "setHistoryData", "", {**HISTORY, "version": "2"}),
    ("setHistoryData-previous-without-url", "setHistoryData", "", _without(HISTORY, "previous", "url")),
    ("setMailMergeRecipients-without-url", "setMailMergeRecipients", "", {"fileType": "xlsx"}),
    ("setReferenceData-without-path", "setReferenceData", "", _without(REFERENCE, "path")),
    ("setReferenceSource-without-url", "setReferenceSource", "", _without(REFERENCE, "url")),
    ("setRequestedDocument-c-merge", "setRequestedDocument", "", {"c": "merge", "fileType": "docx", "url": DOC_URL}),
    # seed 004's sample tokens for these two methods sign a payload without "c"
    ("004-setRequestedDocument-token-payload", "setRequestedDocument", "", {"fileType": "docx", "url": DOC_URL}),
    ("setRequestedSpreadsheet-c-compare", "setRequestedSpreadsheet", "",
     {"c": "compare", "fileType": "xlsx", "url": "https://example.com/url-to-example-recipients.xlsx"}),
    ("setRevisedFile-without-fileType", "setRevisedFile", "", {"url": DOC_URL}),
    # seed 003's cURL body spells the key "username"
    ("003-curl-username", "workspace-auth", "", {"username": "yourusername", "password": "yourpassword"}),
    ("workspace-auth-password-number", "workspace-auth", "", {"userName": "yourusername", "password": 1234}),
    ("workspace-auth-response-without-token", "workspace-auth", "#/$defs/response",
     {"count": 1, "response": {"expires": "2010-07-07T17:06:03.5845502+03:00"}, "status": 0, "statusCode": 201}),
]


@pytest.mark.parametrize(("flow", "pointer", "payload"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_seed_payload_is_valid(flow: str, pointer: str, payload: dict):
    errors = [f"{e.json_path}: {e.message}" for e in _validator(flow, pointer).iter_errors(payload)]
    assert errors == []


@pytest.mark.parametrize(("flow", "pointer", "payload"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_bad_payload_is_invalid(flow: str, pointer: str, payload: dict):
    assert list(_validator(flow, pointer).iter_errors(payload))


def test_seed_001_editor_config_passes_the_base_schema_only():
    assert _validator("editor-config").is_valid(SEED_001_EDITOR_CONFIG)
    assert not _validator("editor-config", "#/$defs/signed-7.1").is_valid(SEED_001_EDITOR_CONFIG)


def test_signed_7_1_lists_every_parameter_of_seed_004():
    """Removing any one leaf of seed 004's example must break the 7.1 sub-schema."""
    validator = _validator("editor-config", "#/$defs/signed-7.1")

    def leaves(node, path=()):
        if isinstance(node, dict):
            for k, v in node.items():
                yield path + (k,)
                yield from leaves(v, path + (k,))

    paths = list(leaves(SEED_004_EDITOR_CONFIG))
    assert len(paths) == 27  # every key of the example, nested ones included
    for path in paths:
        assert not validator.is_valid(_without(SEED_004_EDITOR_CONFIG, *path)), "/".join(path)
