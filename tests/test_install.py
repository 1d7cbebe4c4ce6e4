"""The package as users get it: a wheel installed in a fresh virtual environment finds its schemas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "pages" / "seeds" / "seed002.md"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding the built wheel of this checkout; its dependencies are borrowed from the
    test interpreter's site-packages through PYTHONPATH (which skips that folder's .pth files, and
    so skips the editable install of the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp), str(ROOT)],
        check=True,
    )
    wheel = next(tmp.glob("mkdocs_oo_jwt-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # unpack the wheel into the venv: the wheel's own files, nothing from the checkout
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return python


def test_wheel_carries_the_schemas_and_checks_a_page(installed, tmp_path):
    import sysconfig

    page = tmp_path / "page.md"
    page.write_bytes(SEED.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_JWT_SECRET")}
    env["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    proc = subprocess.run(
        [str(installed), "-c", "import sys, mkdocs_oo_jwt.cli as c; sys.exit(c.main(sys.argv[1:]))",
         "check", "--format", "json", str(page)],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    errors = [(f["rule"], f["line"], f["flow"]) for f in report["findings"] if f["severity"] == "error"]
    assert errors == [("token-payload-mismatch", 77, "conversion")]
    where = subprocess.run(
        [str(installed), "-c", "import mkdocs_oo_jwt.flows as f; print(f.bundled_schema_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(where).parent.name == "mkdocs_oo_jwt"  # inside the installed package, not the checkout
    assert not Path(where).is_relative_to(ROOT)
