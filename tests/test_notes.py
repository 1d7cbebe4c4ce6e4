"""A page edited outside its samples is checked from the notes of its previous check (``remembered``):
the same findings as a check from scratch, without reading its tokens or validating its examples
again; what changed, and any note a run did not write, is worked out again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

SECRET = "oo-jwt-test-secret-0123456789abcdef"
OTHER = "another-secret-0123456789abcdef0123"
PAYLOAD = {"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "http://example.com/a.docx"}

# a schema error, a token signing other parameters, a token that does not verify with the secret
PAGE = """# Conversion
{prose}
Sample parameters of request to convert the document:

```json
{{"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx", "async": {async_}}}
```

Sample token

```
{token}
```

## Convert again

Sample parameters of request to convert the document:

```json
{{"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx"}}
```

Sample token

```
{bad}
```
"""

EXPECTED_RULES = ["schema", "token-payload-mismatch", "token-payload-mismatch", "token-signature"]


def write(tree: Path, prose: str = "", async_: str = '"yes"') -> None:
    page = tree / "docs" / "conversion.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(PAGE.format(prose=prose, async_=async_, token=jwt.encode(PAYLOAD, SECRET, algorithm="HS256"),
                                bad=jwt.encode({**PAYLOAD, "url": "https://example.com/a.docx"}, OTHER, algorithm="HS256")),
                    encoding="utf-8")


def oo_jwt(tree: Path, *argv: str, without_libraries: bool = False) -> list[tuple]:
    """``oo-jwt check --format json`` on the tree, in a new process (one: ``--jobs 1``); with
    ``without_libraries``, PyJWT and jsonschema cannot be imported in it."""
    prelude = "import sys; sys.modules['jwt'] = None; sys.modules['jsonschema'] = None\n" if without_libraries else ""
    code = prelude + "import sys\nfrom mkdocs_oo_jwt.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    done = subprocess.run([sys.executable, "-c", code, "check", "--format", "json", "--jobs", "1", *argv, "docs"],
                          cwd=tree, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OO_JWT_SECRET": SECRET})
    assert done.returncode == 1, done.stderr
    return [(f["rule"], f["line"], f["column"], f["message"]) for f in json.loads(done.stdout)["findings"]]


@pytest.fixture
def tree(tmp_path) -> Path:
    write(tmp_path)
    assert [f[0] for f in oo_jwt(tmp_path, "--cache-dir", "cache")] == EXPECTED_RULES  # the notes taken
    return tmp_path


def test_a_page_edited_in_its_prose_is_checked_without_reading_its_tokens_again(tree):
    write(tree, prose="\nA paragraph added above the samples: every line below moves down two.\n")
    fresh = oo_jwt(tree, "--no-cache")
    assert [f[0] for f in fresh] == EXPECTED_RULES and fresh[0][1] == 8  # the schema finding moved down
    assert oo_jwt(tree, "--cache-dir", "cache", without_libraries=True) == fresh


def test_a_changed_sample_is_read_and_validated_again(tree):
    write(tree, async_="true")  # the schema error fixed: the token still lacks "async"
    fresh = oo_jwt(tree, "--no-cache")
    assert [f[0] for f in fresh] == ["token-payload-mismatch", "token-payload-mismatch", "token-signature"]
    assert oo_jwt(tree, "--cache-dir", "cache") == fresh


def test_notes_a_run_did_not_write_are_worked_out_again(tree):
    cache = tree / "cache" / "findings-v2.json"
    stored = json.loads(cache.read_text(encoding="utf-8"))
    notes = [entry["notes"] for entry in stored["entries"].values() if "notes" in entry]
    assert notes and all(notes)
    shapes = iter(['["token", {}, {}, "not hex"]', "[[], []", '{"a": 1}', "[]", "null", '["malformed", 1, true]'])
    for page_notes in notes:
        for key in page_notes:
            page_notes[key] = next(shapes, '"?"')
    cache.write_text(json.dumps(stored, separators=(",", ":")), encoding="utf-8")  # as a run writes it
    write(tree, prose="\nA paragraph added.\n")
    assert oo_jwt(tree, "--cache-dir", "cache") == oo_jwt(tree, "--no-cache")


def test_notes_are_taken_only_by_the_thread_checking_the_page():
    """A program that runs checks in threads: one thread's page takes no note of another's work."""
    import threading

    from mkdocs_oo_jwt import remembered

    with remembered.taking({}) as taken:
        other = threading.Thread(target=remembered.recalled, args=("token", "a.b.c", lambda: ["x"], lambda n: True))
        other.start()
        other.join()
        assert taken == {}
        assert remembered.recalled("token", "a.b.c", lambda: ["x"], lambda n: True) == ["x"]
        assert len(taken) == 1


def test_a_value_json_would_write_as_another_is_not_noted():
    """A note is keyed by the example's JSON text: a dict with a key that is not a string (which
    JSON writes as one) or an expression has no text of its own, and is validated every time."""
    from mkdocs_oo_jwt import remembered
    from mkdocs_oo_jwt.model import UNKNOWN

    assert remembered.canonical({"a": [1, {"b": None}]}) == '{"a":[1,{"b":null}]}'
    assert remembered.canonical({"a": [1, {2: None}]}) is None
    assert remembered.canonical({1: "x"}) is None and remembered.canonical({"1": "x"}) == '{"1":"x"}'
    assert remembered.canonical({"c": UNKNOWN}) is None
