"""The decoded-token panels as a reader sees them: ``site_example/`` built with panels on (MkDocs,
Material, the plugin), served on localhost, opened in a real headless Chromium (Debian's
``chromium`` package, driven by Playwright; never a browser Playwright downloads), with JavaScript
turned off (the panels need none) and every request that is not to the local server refused (no
network; Material's web fonts fall back to the system's).

The reader's way in is the keyboard: Tab until the panel's summary has the focus, Enter, and the
panel is open and shows the decoded payload. Without /usr/bin/chromium or Playwright the test is a
skip that says which is missing, never a pass.

``python tests/test_browser.py [PNG]`` writes the README's screenshot (default
``site_example/screenshots/panel.png``) with the same code: a request, its token and the opened panel.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as a script too: test_panels is beside it
from test_panels import DEMO_SECRET, JWT, build, needs, panel_site  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "token-in-body/"  # its first token: the command service's {"c": "info", "key": ...}
MAX_TABS = 500  # a bound on the Tab presses that reach the first panel (a Material page has ~100 stops)
SCREENSHOT = Path(__file__).resolve().parent.parent / "site_example" / "screenshots" / "panel.png"


def needs_browser() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    needs("playwright")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextmanager
def served(folder: Path):
    """The folder on http://127.0.0.1:<a free port>/, from a thread, for the duration."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=20)


@contextmanager
def browser_page(origin: str, refused: list[str]):
    """A Chromium page with JavaScript off that can reach ``origin`` only (what else it asks for
    is refused and listed in ``refused``)."""
    from playwright.sync_api import sync_playwright

    def route(request_route):
        url = request_route.request.url
        if url.startswith(origin):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False, viewport={"width": 1100, "height": 900},
                                          device_scale_factor=1)
            context.route("**/*", route)
            yield context.new_page()
        finally:
            browser.close()


def focus_by_keyboard(page, summary) -> int:
    """Press Tab until ``summary`` has the focus; how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if summary.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"the panel's summary never got the focus in {MAX_TABS} presses of Tab")


def open_first_panel(page):
    """Open the page's first panel as a keyboard user does; the panel's locator."""
    panel = page.locator("details.oo-jwt-panel").first
    summary = panel.locator("summary")
    focus_by_keyboard(page, summary)
    page.keyboard.press("Enter")
    return panel


def screenshot_of_panel(page, panel, path: Path) -> None:
    """A picture of the token's code block and its opened panel below it (the README's)."""
    block = panel.locator("xpath=preceding-sibling::*[1]")
    block.evaluate("element => element.scrollIntoView({block: 'center'})")  # below the page's header bar
    top, bottom = block.bounding_box(), panel.bounding_box()
    margin = 12
    x, y = min(top["x"], bottom["x"]) - margin, top["y"] - margin
    width = max(top["x"] + top["width"], bottom["x"] + bottom["width"]) + margin - x
    height = bottom["y"] + bottom["height"] + margin - y
    page.screenshot(path=str(path), clip={"x": x, "y": max(y, 0), "width": width, "height": height})


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    needs_browser()
    needs("material")
    return build("mkdocs", panel_site(tmp_path_factory.mktemp("browser") / "site_example", extra={}))


def test_a_reader_opens_a_panel_by_keyboard_and_reads_the_decoded_payload(built_site, tmp_path):
    refused: list[str] = []
    with served(built_site) as origin, browser_page(origin, refused) as page:
        response = page.goto(origin + PAGE)
        assert response is not None and response.ok
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

        panel = page.locator("details.oo-jwt-panel").first
        payload = panel.locator("pre").last
        assert panel.evaluate("element => element.open") is False  # collapsed: the reader opens it
        assert not payload.is_visible()

        open_first_panel(page)
        assert panel.evaluate("element => element.open") is True
        assert payload.is_visible()
        token = JWT.search(panel.locator("xpath=preceding-sibling::*[1]").inner_text()).group()
        decoded = jwt.decode(token, DEMO_SECRET, algorithms=["HS256"])
        assert decoded == {"c": "info", "key": "Khirz6zTPdfd7"}
        assert json.loads(payload.inner_text()) == decoded  # the text the reader sees, as JSON
        text = panel.inner_text()
        assert "signs exactly the example above" in text
        assert "verifies with the published docs secret" in text
        assert DEMO_SECRET not in page.content()

        shot = tmp_path / "panel.png"
        screenshot_of_panel(page, panel, shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        page.keyboard.press("Enter")  # the same key closes it
        assert panel.evaluate("element => element.open") is False
    assert all(not url.startswith(origin) for url in refused)


def test_the_committed_screenshot_is_a_small_png():
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) < 150_000


def main(argv: list[str]) -> int:
    """Write the README's screenshot: the example site built with panels, its first panel opened."""
    import tempfile

    out = Path(argv[0]) if argv else SCREENSHOT
    with tempfile.TemporaryDirectory() as folder:
        site = build("mkdocs", panel_site(Path(folder) / "site_example", extra={}))
        with served(site) as origin, browser_page(origin, []) as page:
            page.goto(origin + PAGE)
            panel = open_first_panel(page)
            out.parent.mkdir(parents=True, exist_ok=True)
            screenshot_of_panel(page, panel, out)
    print(f"{out}: {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
