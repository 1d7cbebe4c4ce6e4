"""Review fixes (b): what a reviewer found the code doing to pages, outputs and flows folders.

- An unsigned token (``alg: none``) is whole as it stands: it ends in a dot with an empty
  signature, and the line after it is not its signature. Joined to it, a ``---`` or another token
  made one malformed token, and ``oo-jwt fix`` deleted that line.
- ``--format github`` gives the annotation the real file name (a name not in Unicode NFC is
  still the name on disk), so it attaches to the file.
- A ``$ref`` cycle in a definition that no flow uses cannot hang validation: the folder loads.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import CONVERSION, SECRET_VARS

SECRET = "review-fixes-b-secret-0123456789-abcdefghij"  # 43 bytes, test only


def command(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m mkdocs_oo_jwt ARGS`` in ``cwd`` with only ``env``'s secrets."""
    environ = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and k not in ("FORCE_COLOR", "NO_COLOR")}
    environ.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", **(env or {})})
    result = subprocess.run([sys.executable, "-m", "mkdocs_oo_jwt", *args], cwd=cwd, env=environ,
                            capture_output=True, timeout=120)
    assert b"Traceback" not in result.stderr, result.stderr.decode("utf-8", "replace")
    return result


# ------------------------------------------------------------------ 1. an unsigned token is whole


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


UNSIGNED = b64(b'{"alg":"none"}') + "." + b64(json.dumps(CONVERSION, separators=(",", ":")).encode()) + "."
SIGNED = jwt.encode(CONVERSION, SECRET, algorithm="HS256")


def token_page(*lines: str) -> str:
    return f"""# Conversion

Sample parameters of the request to the document conversion service:

```json
{json.dumps(CONVERSION, indent=4)}
```

Sample token:

```text
{chr(10).join(lines)}
```
"""


@pytest.mark.parametrize(
    "after", [pytest.param(None, id="alone"), pytest.param("---", id="then-a-rule"),
              pytest.param(SIGNED, id="then-a-signed-token")],
)
def test_an_unsigned_token_is_reported_as_unsigned_and_fix_changes_only_its_characters(tmp_path, after):
    lines = [UNSIGNED] + ([after] if after else [])
    before = token_page(*lines)
    page = tmp_path / "page.md"
    page.write_text(before, encoding="utf-8")
    env = {"OO_JWT_SECRET": SECRET}

    result = command(tmp_path, "check", "--no-cache", "--format", "json", "page.md", env=env)
    assert result.returncode == 1, result.stderr
    found = [(f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("token-alg", 18)], found  # the unsigned token, on its own line; the next is clean

    diff = command(tmp_path, "fix", "--diff", "page.md", env=env).stdout.decode("utf-8")
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert removed == [UNSIGNED], diff
    assert len(added) == 1, diff
    assert page.read_text(encoding="utf-8") == before  # --diff writes nothing

    command(tmp_path, "fix", "page.md", env=env)
    fixed = page.read_text(encoding="utf-8")
    (new,) = added
    assert fixed == before.replace(UNSIGNED, new, 1)  # exactly the token's characters changed
    assert jwt.decode(new, SECRET, algorithms=["HS256"]) == CONVERSION
    assert command(tmp_path, "check", "--no-cache", "page.md", env=env).returncode == 0  # the rest still clean


# ------------------------------------------------------------------ 2. github: the real file name

NFC_NAME, NFD_NAME = "caf\u00e9.md", "cafe\u0301.md"  # two names, two files: Linux compares bytes


def property_value(value: str) -> str:
    """A workflow command's property as the runner reads it back (``ActionCommand``)."""
    for code, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        value = value.replace(code, ch)
    return value


def test_github_annotations_name_the_file_on_disk_whatever_its_normalisation(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("two files whose names differ only by normalisation exist on Linux only (macOS normalises)")
    docs = tmp_path / "docs"
    docs.mkdir()
    broken = token_page(UNSIGNED)  # one finding (token-alg) in each
    for name in (NFC_NAME, NFD_NAME, "a,b:c%d.md"):
        (docs / name).write_text(broken, encoding="utf-8")
    assert len(os.listdir(docs)) == 3, "this file system merges names that differ only by normalisation"

    result = command(tmp_path, "check", "--no-cache", "--format", "github", "docs", env={"OO_JWT_SECRET": SECRET})
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode("utf-8")
    files = []
    for line in out.splitlines():
        if line.startswith("::error file="):
            properties = line[len("::error "):].split("::", 1)[0]
            files.append(property_value(dict(p.split("=", 1) for p in properties.split(","))["file"]))
    assert sorted(files) == sorted(f"docs/{name}" for name in (NFC_NAME, NFD_NAME, "a,b:c%d.md")), out
    for name in files:
        assert (tmp_path / name).is_file(), name  # the annotation attaches: the name is the file's
