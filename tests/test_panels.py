"""Decoded-token panels (option ``panels``) in the built site, as a reader gets it: ``site_example/``
copied, panels turned on, built for real (MkDocs with Material and with its plain theme, the plugin;
Zensical, the Markdown extension; Python-Markdown alone), and the HTML read back.

What a reader must get: one collapsed panel under each sample token, whose payload is the token's
(checked with PyJWT, never with the tool's own code) and the example's; a hostile payload shown as
text; no secret anywhere; the page and token opt-outs honoured; in verify mode the differences.

The helpers here (``panel_site``, ``build``, ``panels_of``) are also used by test_browser.py.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from pagekit import SECRET_VARS

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site_example"
# the demo docs secret (site_example/README.md): public by design, readers verify the samples with it
DEMO_SECRET = "oo-jwt-demo-docs-secret-2026-not-for-production"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
TAG = re.compile(r"<[^>]+>")
PANEL = re.compile(r'<details class="(?P<classes>[^"]*\boo-jwt-panel\b[^"]*)">(?P<body>.*?)</details>', re.S)
PAYLOAD = re.compile(r"<strong>Payload</strong></p>\s*<pre><code>(?P<json>.*?)</code></pre>", re.S)
HEADER = re.compile(r"<strong>Header</strong></p>\s*<pre><code>(?P<json>.*?)</code></pre>", re.S)
SUMMARY = re.compile(r"<summary>(?P<text>.*?)</summary>", re.S)

HOSTILE_URL = "https://example.com/</details><script>alert(1)</script><img src=x onerror=alert(2)>\u202e.docx"
HOSTILE_PARAMS = {"c": "compare", "fileType": "docx", "url": HOSTILE_URL}
STALE_PARAMS = {"fileType": "docx", "url": "https://example.com/url-to-example-document.docx"}


def _method_page(title: str, params: dict, token: str, above: str = "") -> str:
    """A page with one setRequestedDocument-like example and its sample token."""
    return (f"# {title}\n\n## setRequestedDocument\n\nWhen calling the `setRequestedDocument` method, the token "
            "signs the parameters:\n\n```json\n" + json.dumps(params, indent=4) + "\n```\n\n"
            f"{above}Sample token\n\n```\n{token}\n```\n")


def signed(params: dict) -> str:
    return jwt.encode(params, DEMO_SECRET, algorithm="HS256")


# the pages added to the copy of site_example: a hostile payload, a page that turns panels off, a
# page whose first token opts out with the directive (its second keeps its panel)
EXTRA_PAGES = {
    "hostile.md": _method_page("Hostile payload", HOSTILE_PARAMS, signed(HOSTILE_PARAMS)),
    "no-panels.md": "---\ntitle: No panels\noo_jwt: {panels: false}\n---\n"
                    + _method_page("No panels", STALE_PARAMS | {"c": "compare"}, signed(STALE_PARAMS | {"c": "compare"})),
    "one-token-out.md": _method_page("One token out", {"c": "compare", "fileType": "docx", "url": "https://example.com/a.docx"},
                                     signed({"c": "compare", "fileType": "docx", "url": "https://example.com/a.docx"}),
                                     above="<!-- oo-jwt: no-panel -->\n")
                        + "\n## setRevisedFile\n\nWhen calling the `setRevisedFile` method, the token signs the "
                          "parameters:\n\n```json\n" + json.dumps(STALE_PARAMS, indent=4) + "\n```\n\nSample token\n\n"
                          f"```\n{signed(STALE_PARAMS)}\n```\n",
}


def needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this environment (pip install -e '.[test]' installs it)")


def panel_site(dest: Path, *, theme: str = "material", mode: str = "regenerate", extra: dict | None = None,
               options: str = "") -> Path:
    """A copy of site_example/ with panels on (the plugin's and the extension's entries), ``extra``
    pages added to docs/."""
    shutil.copytree(SITE, dest, ignore=shutil.ignore_patterns("site", "broken", ".cache", "screenshots"))
    config = dest / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert text.count("      mode: regenerate\n") == 2  # the plugin's and the extension's entries
    text = text.replace("      mode: regenerate\n", f"      mode: {mode}\n      panels: true\n{options}")
    text = text.replace("  name: material\n", f"  name: {theme}\n")
    config.write_text(text, encoding="utf-8")
    for name, page in (EXTRA_PAGES if extra is None else extra).items():
        (dest / "docs" / name).write_text(page, encoding="utf-8")
    return dest


def build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env["OO_JWT_SECRET"] = DEMO_SECRET
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's end-of-life banner
    env["NO_COLOR"] = "1"
    return env


def build(generator: str, project: Path) -> Path:
    """``<generator> build --strict`` of the project; the built site (the build must pass)."""
    needs(generator)
    out = project / "site"
    cmd = [sys.executable, "-m", generator, "build", "--strict", "-f", str(project / "mkdocs.yml")]
    cmd += ["--clean"] if generator == "zensical" else ["-d", str(out)]
    # timeout: a hang guard only (a build takes about a second)
    result = subprocess.run(cmd, capture_output=True, text=True, env=build_env(), cwd=project, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert DEMO_SECRET not in result.stdout + result.stderr
    return out


def page_html(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def panels_of(page: str) -> list[re.Match]:
    return list(PANEL.finditer(page))


def tokens_outside_panels(page: str) -> list[str]:
    """The JWTs a reader sees in the page's text, outside the panels."""
    return JWT.findall(html.unescape(TAG.sub("", PANEL.sub("", page))))


def shown_json(panel: re.Match, which: re.Pattern = PAYLOAD):
    """The JSON a panel shows (header or payload), as a reader would copy it."""
    found = which.search(panel.group("body"))
    assert found, panel.group(0)
    return json.loads(html.unescape(found.group("json")))


DOC_PAGES = ("browser", "material", "placeholders", "token-in-body", "token-in-header", "workspace", "hostile",
             "one-token-out")


@pytest.fixture(scope="module")
def material_site(tmp_path_factory):
    return build("mkdocs", panel_site(tmp_path_factory.mktemp("material") / "site_example"))


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory):
    return build("zensical", panel_site(tmp_path_factory.mktemp("zensical") / "site_example"))


def _one_panel_per_token(site: Path) -> int:
    total = 0
    for name in DOC_PAGES:
        page = page_html(site, name)
        tokens, panels = tokens_outside_panels(page), panels_of(page)
        expected = len(tokens) - (1 if name == "one-token-out" else 0)
        assert len(panels) == expected, name
        shown = tokens[1:] if name == "one-token-out" else tokens  # its first opted out (<!-- oo-jwt: no-panel -->)
        for token, panel in zip(shown, panels):  # each panel comes right after its token
            assert shown_json(panel) == jwt.decode(token, DEMO_SECRET, algorithms=["HS256"])
            assert shown_json(panel, HEADER) == jwt.get_unverified_header(token)
            assert "signs exactly the example above" in panel.group("body")
            assert "verifies with the published docs secret" in panel.group("body")
        total += len(panels)
    return total


def test_one_collapsed_material_panel_under_each_sample_token_showing_its_payload(material_site):
    total = _one_panel_per_token(material_site)
    assert total == 28 + 1 + 1  # site_example's JWTs (placeholders filled), the hostile page, one-token-out
    assert page_html(material_site, "workspace").count("oo-jwt-panel") == 0  # an opaque token: nothing to decode
    for name in DOC_PAGES:
        for panel in panels_of(page_html(material_site, name)):
            assert panel.group("classes") == "note oo-jwt-panel"  # Material's details styling, closed
            assert SUMMARY.search(panel.group("body"))


def test_the_panel_shows_the_example_it_signs(material_site):
    """The body token of the command request signs {"c": "info", "key": ...}: its panel says so, with
    the example's line in the page's source; the header token shows the wrapped body."""
    body_page = page_html(material_site, "token-in-body")
    first = panels_of(body_page)[0]
    assert shown_json(first) == {"c": "info", "key": "Khirz6zTPdfd7"}
    source = (SITE / "docs" / "token-in-body.md").read_text(encoding="utf-8").split("\n")
    line = source.index('    "c": "info",')  # 0-based line of the example's first member: its "{" is 1-based
    assert f"Signs the example at line {line} of the page's source, flow <code>command</code>" in first.group(0)
    header_page = page_html(material_site, "token-in-header")
    assert shown_json(panels_of(header_page)[0]) == {"payload": {"c": "info", "key": "Khirz6zTPdfd7"}}


def test_in_regenerate_mode_a_filled_placeholder_shows_the_freshly_signed_payload(material_site):
    panels = panels_of(page_html(material_site, "placeholders"))
    assert shown_json(panels[0]) == {
        "c": "add", "images": [{"fileType": "png", "url": "https://example.com/url-to-example-image.png"}]}
    assert shown_json(panels[1]) == {"payload": {"c": "info", "key": "Khirz6zTPdfd7"}}


def test_a_hostile_payload_is_text_in_the_panel(material_site):
    page = page_html(material_site, "hostile")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("<details") == page.count("</details>") == 1
    (panel,) = panels_of(page)
    assert shown_json(panel)["url"] == HOSTILE_URL  # the same value, as JSON
    assert "&lt;/details&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in panel.group("body")
    assert "\u202e" not in panel.group("body") and "\\u202e" in panel.group("body")  # bidi control shown, not obeyed


def test_no_javascript_and_no_external_asset_in_a_panel(material_site):
    for name in DOC_PAGES:
        for panel in panels_of(page_html(material_site, name)):
            for tag in TAG.findall(panel.group(0)):  # only text markup, no attribute but a class
                assert re.fullmatch(r'</?(?:details|summary|p|ul|li|pre|code|strong)(?: class="[\w -]+")?>', tag), tag


def test_the_secret_is_nowhere_in_the_built_site(material_site, zensical_site):
    for site in (material_site, zensical_site):
        files = [p for folder in (site, site.parent / ".cache") if folder.is_dir() for p in folder.rglob("*") if p.is_file()]
        assert len(files) > 10
        for path in files:
            assert DEMO_SECRET.encode() not in path.read_bytes(), path


def test_a_page_turns_panels_off_in_its_front_matter(material_site, zensical_site):
    for site in (material_site, zensical_site):
        page = page_html(site, "no-panels")
        assert len(tokens_outside_panels(page)) == 1
        assert "oo-jwt-panel" not in page


def test_the_directive_turns_off_the_panel_of_the_next_token_only(material_site, zensical_site):
    for site in (material_site, zensical_site):
        page = page_html(site, "one-token-out")
        tokens, (panel,) = tokens_outside_panels(page), panels_of(page)
        assert len(tokens) == 2
        assert shown_json(panel) == STALE_PARAMS  # the second token's
        assert page.index(tokens[1]) < panel.start()


def test_the_markdown_extension_under_zensical_gives_the_same_panels(zensical_site):
    total = _one_panel_per_token(zensical_site)
    assert total == 30
    for panel in panels_of(page_html(zensical_site, "material")):
        assert panel.group("classes") == "note oo-jwt-panel"


def test_the_markdown_extension_under_mkdocs_without_the_plugin(tmp_path):
    """A site that lists only the extension (MkDocs reads it as any Markdown extension): the same
    panels, in Material's styling (the theme MkDocs registered on the Markdown)."""
    project = panel_site(tmp_path / "site_example")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("  - oo-jwt:")], encoding="utf-8")  # plugins: search only
    site = build("mkdocs", project)
    assert _one_panel_per_token(site) == 30
    assert {p.group("classes") for p in panels_of(page_html(site, "browser"))} == {"note oo-jwt-panel"}


def test_a_plain_theme_gets_a_plain_details(tmp_path):
    site = build("mkdocs", panel_site(tmp_path / "site_example", theme="mkdocs", extra={}))
    page = page_html(site, "token-in-body")
    panels = panels_of(page)
    assert len(panels) == 4
    assert {p.group("classes") for p in panels} == {"oo-jwt-panel"}
    assert 'class="note' not in page


def test_in_verify_mode_the_panel_lists_the_differences_as_json_pointers(tmp_path):
    stale = {"fileType": "docx", "url": "https://example.com/an-older-document.docx", "title": "old"}
    page = _method_page("Stale", STALE_PARAMS | {"c": "compare"}, signed(stale | {"c": "compare"}))
    project = panel_site(tmp_path / "site_example", mode="verify", extra={"stale.md": page},
                         options="      fail_on: never\n")
    site = build("mkdocs", project)
    (panel,) = panels_of(page_html(site, "stale"))
    body = html.unescape(panel.group("body"))
    assert "signs exactly" not in body
    assert "token-payload-mismatch: /url: the example has" in body
    assert "token-payload-mismatch: /title: the token has" in body
    assert shown_json(panel) == stale | {"c": "compare"}  # what the token holds
    assert "Decoded token: 2 problems" in body
    for path in site.rglob("*"):
        if path.is_file():
            assert DEMO_SECRET.encode() not in path.read_bytes(), path


def test_the_extension_in_any_python_markdown_host(monkeypatch):
    """No generator at all: Python-Markdown with the extension (panels on) renders the panel, plain
    (no theme is known), and a page with the option off renders none."""
    import markdown

    from mkdocs_oo_jwt.extension import OoJwtExtension

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", DEMO_SECRET)
    text = ("# Host\n\nWhen calling the `setRequestedDocument` method, the `token` parameter signs the others:\n\n"
            "```json\n" + json.dumps(HOSTILE_PARAMS | {"token": "<oo-jwt>"}, indent=4) + "\n```\n")
    out = markdown.markdown(text, extensions=["fenced_code", OoJwtExtension(mode="regenerate", panels=True)])
    (panel,) = panels_of(out)
    assert panel.group("classes") == "oo-jwt-panel"
    assert shown_json(panel) == HOSTILE_PARAMS
    assert "<script>" not in out and DEMO_SECRET not in out
    plain = markdown.markdown(text, extensions=["fenced_code", OoJwtExtension(mode="regenerate")])
    assert "oo-jwt-panel" not in plain and len(JWT.findall(plain)) == 1


CONTAINERS = """# Containers

## setRevisedFile in an indented code block

When calling the `setRevisedFile` method, the token signs:

```json
{"fileType": "docx", "url": "https://example.com/a.docx"}
```

Sample token

    TOKEN_A

## setRevisedFile in a list

- When calling the `setRevisedFile` method, the token signs:

    ```json
    {"fileType": "docx", "url": "https://example.com/a.docx"}
    ```

    Sample token

        TOKEN_A

    Sample token: TOKEN_A

## insertImage in a quote

When calling the `insertImage` method, the `token` parameter signs the others:

> ```json
> {"c": "add", "images": [{"fileType": "png", "url": "https://example.com/a.png"}], "token": "<oo-jwt>"}
> ```
> After the example.

## Methods table

| method | parameters | token |
| --- | --- | --- |
| setRevisedFile | `{"fileType": "docx", "url": "https://example.com/b.docx"}` | TOKEN_B |
| setRevisedFile | `{"fileType": "docx", "url": "https://example.com/c.docx"}` | TOKEN_C |

After the table.
"""


def test_a_panel_goes_under_its_block_in_every_container(monkeypatch):
    """An indented code block (whose own four spaces are not its container's), a list item, a
    quote, a table (the panels after it): each panel renders as a panel, none inside a code block."""
    import markdown

    from mkdocs_oo_jwt.extension import OoJwtExtension

    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", DEMO_SECRET)
    text = CONTAINERS
    for name in "ABC":
        text = text.replace(f"TOKEN_{name}", signed({"fileType": "docx", "url": f"https://example.com/{name.lower()}.docx"}))
    out = markdown.markdown(text, extensions=["pymdownx.superfences", "tables",
                                              OoJwtExtension(mode="regenerate", panels=True)])
    panels = panels_of(out)
    tokens = tokens_outside_panels(out)
    assert len(panels) == len(tokens) == 6
    for panel in panels:
        before = out[: panel.start()]
        assert before.count("<pre") == before.count("</pre>"), panel.group(0)  # not in a code block
    quote = out[out.index("<blockquote>"): out.index("</blockquote>")]
    assert len(panels_of(quote)) == 1 and quote.index("oo-jwt-panel") < quote.index("After the example.")
    table_end = out.index("</table>")
    assert [p.start() > table_end for p in panels[-2:]] == [True, True]
    assert [shown_json(p)["url"] for p in panels[-2:]] == ["https://example.com/b.docx", "https://example.com/c.docx"]
