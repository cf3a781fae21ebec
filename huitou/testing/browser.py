"""Playwright fixtures driving Debian's Chromium against the live test server.

``page`` is a 1440px desk browser, ``phone_page`` a 390px phone; both are
signed out. ``login(page, user)`` signs in through the real login form.
Screenshots go to ``$HUITOU_ARTIFACTS`` (default ``artifacts/screenshots``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("HUITOU_CHROMIUM")
    if explicit:
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def artifacts_dir() -> Path:
    path = Path(os.environ.get("HUITOU_ARTIFACTS", "artifacts")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the tests make between steps are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is required for browser tests (apt-get install chromium)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _page(browser: Any, live_server: Any, width: int, height: int, mobile: bool) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _page(browser, live_server, 1440, 900, mobile=False)


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Iterator[Any]:
    yield from _page(browser, live_server, 390, 844, mobile=True)


@pytest.fixture
def login() -> Callable[[Any, Any], None]:
    from huitou.testing.fixtures import PASSWORD

    def do_login(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

    return do_login


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        path = artifacts_dir() / f"{name}.png"
        # From the top: a full-page capture of a scrolled page (e.g. after a redirect
        # to #vehicle-3) draws the fixed side bar at the scroll offset, mid-page.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def no_horizontal_scroll(page: Any) -> None:
    """Assert that ``page`` fits its window: nothing sticks out sideways to scroll to."""
    width = page.viewport_size["width"]
    # Measure a whole document: right after a click that navigates, the next one may not
    # have its root element yet. Callers wait for the page they mean (wait_for_url).
    page.wait_for_function("document.readyState === 'complete' && document.documentElement !== null")
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == width
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px wide in a {width}px window"
