"""Shared fixtures: the built website served from loopback, and a real headless browser.

The browser is Debian's Chromium (`apt-get install chromium`), driven by Playwright
(PyPI) without Playwright's own browser downloads. Every request that does not go to
the local server is blocked and recorded, so a test can prove the site is complete on
its own. Without Chromium (or without a built site) the browser tests skip and say why.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def find_chromium() -> str | None:
    """$CHROMIUM, else Debian's /usr/bin/chromium, else chromium on $PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; in CI (CI is set), a missing browser or site fails."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests, not skip them)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def site_dir() -> Path:
    if not (SITE / "index.html").exists():
        skip_or_fail(f"no built website in {SITE}: run `make book` (or `make test`)")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="session")
def site_url(site_dir):
    """Base URL (ending in /) of the built site, served by a thread on 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    executable = find_chromium()
    if executable is None:
        skip_or_fail("no Chromium for the browser tests: install it with "
                     "`apt-get install chromium` (or set $CHROMIUM to its path)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: run `make book` first")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """A browser tab on the local site, with what left (or tried to leave) the site."""
    page: object
    base: str
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str):
        return self.page.goto(self.base + path, wait_until="load")


@pytest.fixture(scope="session")
def open_page(browser, site_url):
    """Factory: open_page(color_scheme="light") -> Visit with a fresh browser context.

    Requests to anything but the local server are aborted and recorded in
    `external_requests`; console errors and uncaught exceptions go to `console_errors`.
    """
    contexts = []

    def _open(color_scheme: str = "light", viewport=(1280, 900)) -> Visit:
        context = browser.new_context(
            color_scheme=color_scheme, viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        visit = Visit(page=page, base=site_url)

        def route(route):
            url = route.request.url
            if url.startswith(site_url) or url.startswith("data:") or url.startswith("blob:"):
                route.continue_()
            else:
                visit.external_requests.append(url)
                route.abort()

        context.route("**/*", route)
        page.on("console", lambda msg: msg.type == "error"
                and visit.console_errors.append(f"{msg.text} ({msg.location.get('url')})"))
        page.on("pageerror", lambda exc: visit.console_errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", lambda req: visit.failed_requests.append(
            f"{req.url}: {req.failure}"))
        page.on("response", lambda resp: resp.status >= 400 and visit.failed_requests.append(
            f"{resp.url}: HTTP {resp.status}"))
        return visit

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def friendly(monkeypatch):
    """Friendly mode (a learner's): a wrong answer gets a verdict instead of raising."""
    monkeypatch.setenv("RNN_COURSE_STRICT", "0")


@pytest.fixture
def strict(monkeypatch):
    """Strict mode (the book build's): a wrong answer raises WrongAnswer."""
    monkeypatch.setenv("RNN_COURSE_STRICT", "1")
