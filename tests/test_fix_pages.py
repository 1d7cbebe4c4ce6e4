"""Golden before/after pages of ``oo-jwt fix`` (tests/pages/fix): each ``X.before.md``, fixed, is
``X.after.md`` byte for byte; a second fix changes nothing. The pages and their expected bytes
were written from the README (tokens made by PyJWT), not by running the tool."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET = "oo-jwt-test-secret-0123456789abcdef"  # the pages' tokens are signed with it (test only)
PAGES = Path(__file__).parent / "pages" / "fix"
PAIRS = sorted(p.name[: -len(".before.md")] for p in PAGES.glob("*.before.md"))


@pytest.mark.parametrize("name", PAIRS)
def test_fix_rewrites_exactly_the_stale_tokens(name, env, run):
    before = (PAGES / f"{name}.before.md").read_bytes()
    after = (PAGES / f"{name}.after.md").read_bytes()
    assert before != after  # every pair holds something to fix
    page = env / "page.md"
    page.write_bytes(before)
    rc, out, err = run("fix", "page.md")
    assert page.read_bytes() == after, out + err
    assert "fixed page.md:" in out and rc in (0, 1)
    rc, out, err = run("fix", "page.md")  # nothing left to fix
    assert page.read_bytes() == after and "fixed" not in out, out + err


def test_every_pair_is_complete():
    assert PAIRS and all((PAGES / f"{name}.after.md").is_file() for name in PAIRS)
