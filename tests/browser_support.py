"""Shared by the browser tests: Debian's Chromium (never a downloaded browser), a login through the
real page, and screenshots under var/screenshots (TONGBAN_SCREENSHOTS to move them)."""
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop in this thread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("TONGBAN_SCREENSHOTS", Path(__file__).resolve().parent.parent / "var" / "screenshots"))
PASSWORD = "Tongban#2026"  # the factories' password


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("找不到 chromium：请先运行 make test（会安装 Debian 的 chromium 和 fonts-wqy-microhei）。")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                                "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def new_page(browser, width: int = 1280):
    return browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844}, locale="zh-CN").new_page()


def password_step(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")


def login(browser, live_server, username: str, width: int = 1280):
    page = new_page(browser, width)
    password_step(page, live_server, username)
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
