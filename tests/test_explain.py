"""`oo-jwt explain PATH[:LINE]`: golden outputs (read and checked by hand: the flow, the evidence
that decided it, the pairing and the findings of each sample), and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagekit import SECRET_VARS

HERE = Path(__file__).parent
SECRET = "oo-jwt-test-secret-0123456789abcdef"

# (target as given on the command line, from tests/) -> golden output
GOLDEN = {
    "explain/methods.md": "explain/methods.explain.txt",
    "pages/generalisation/i18n-browser-signature-zh.md:18": "explain/i18n-browser-signature-zh-18.explain.txt",
}


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from mkdocs_oo_jwt.cli import main

    monkeypatch.chdir(HERE)
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", SECRET)
    capsys.readouterr()
    code = main(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("target", sorted(GOLDEN))
def test_explain_golden(target, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, target)
    assert (code, err) == (0, "")
    assert out == (HERE / GOLDEN[target]).read_text(encoding="utf-8")


def test_the_golden_pages_say_what_a_writer_must_see(monkeypatch, capsys):
    """What the goldens hold, said outright (so that a regenerated golden cannot quietly lose it)."""
    _, out, _ = run(monkeypatch, capsys, "explain/methods.md")
    assert "flow: insertImage (evidence" in out and "name 'insertImage' in 'Answer [insertImage]" in out
    assert "signs: the example at 8:1" in out and "22:1 error token-payload-mismatch: /images/0/url" in out
    assert "flow: setRevisedFile (certain: directive <!-- oo-jwt: flow=setRevisedFile -->)" in out
    assert "runner-up setRequestedDocument 3.6" in out and "info flow-ambiguous" in out
    _, out, _ = run(monkeypatch, capsys, "pages/generalisation/i18n-browser-signature-zh.md:18")
    # a Chinese lead-in: the link target /editors/open and the payload's keys name the flow
    assert "flow: editor-config (evidence" in out and "word 'open' in '只有在配置经过签名时" in out
    assert "schema: /document/permissions: missing required property 'modifyFilter'" in out
    assert out.count(" example (") == 1 and " token (" not in out  # only what is at line 18


def test_a_line_with_nothing_on_it(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "explain/methods.md:3")
    assert code == 1 and out == "explain/methods.md:3: no example and no token at this line\n" and not err


def test_a_page_with_nothing_to_check(tmp_path, monkeypatch, capsys):
    page = tmp_path / "plain.md"
    page.write_text("# Plain\n\nNo examples here.\n", encoding="utf-8")
    code, out, _ = run(monkeypatch, capsys, str(page))
    assert code == 0 and out == f"{page}: no example and no token on this page\n"


@pytest.mark.parametrize("target", ["no-such-page.md", "explain", "no-such-page.md:4"])
def test_what_cannot_be_explained_is_one_line_and_exit_2(target, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, target)
    assert code == 2 and not out and err.count("\n") == 1 and err.startswith("oo-jwt: error: ")


def test_a_page_that_cannot_be_read(tmp_path, monkeypatch, capsys):
    page = tmp_path / "bad.md"
    page.write_bytes(b"# Bad \xff\n")
    code, out, err = run(monkeypatch, capsys, str(page))
    assert code == 1 and not out and err.startswith(f"{page}:1:") and "UTF-8" in err
