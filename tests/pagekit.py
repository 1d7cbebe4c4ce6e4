"""Pages and values several test modules build their inputs from (plain functions, no fixtures).

Importable as ``pagekit`` from every test module: pytest puts ``tests/`` on the path (the first
folder above a test file without an ``__init__.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SECRET_VARS = ("OO_JWT_SECRET", "OO_JWT_SECRET_INBOX", "OO_JWT_SECRET_OUTBOX", "OO_JWT_SECRET_BROWSER")

CONVERSION = {
    "filetype": "docx",
    "key": "Khirz6zTPdfd7",
    "outputtype": "pdf",
    "title": "Example Document Title.docx",
    "url": "https://example.com/url-to-example-document.docx",
}

# A normal page with one known finding: checked beside a hostile page, it shows the run went on.
NEIGHBOUR = """# Neighbour

Sample parameters of the request to the document conversion service:

```json
{
    "filetype": "docx",
    "key": "Khirz6zTPdfd7"
    "outputtype": "pdf"
}
```
"""
NEIGHBOUR_FINDING = ("json-syntax", 9)


def conversion_page(token: str, params: dict = CONVERSION, title: str = "Conversion", tail: str = "") -> str:
    """A conversion example, and the http request whose body token signs it."""
    return f"""# {title}

## Request to convert the document

Sample parameters of the request to convert the document:

```json
{json.dumps(params, indent=4)}
```

These parameters are encoded into the token, so that the request looks like this:

```http
POST /converter HTTP/1.1
Host: documentserver
Content-Type: application/json

{{
    "token": "{token}"
}}
```
{tail}"""


def unlistable(folder: Path) -> tuple[str, ...]:
    """Make ``folder`` unlistable: chmod 000; as root (which lists it anyway), the command is run
    without the capabilities that bypass permissions (the returned prefix). Skips if neither can be."""
    folder.chmod(0)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("as root, a folder cannot be made unlistable without setpriv (util-linux)")
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search", "--")
    if subprocess.run([*prefix, "ls", str(folder)], capture_output=True).returncode == 0:
        pytest.skip("setpriv could not drop the capabilities that bypass permissions here")
    return prefix


# a conversion example of fixed size and its sample token (``.format(token=...)``)
CONVERSION_WITH_TOKEN = """# Conversion

Sample parameters of request to convert the document:

```json
{{"filetype": "docx", "key": "k1", "outputtype": "pdf", "url": "https://example.com/a.docx"}}
```

Sample token

```
{token}
```
"""
