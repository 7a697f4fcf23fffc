"""The login flow in headless Chromium: an administrator enrols a TOTP second factor (QR code drawn inline,
no external request, no CSP violation) and logs in with it; a demo account gets the first-login welcome."""
import re
from datetime import timedelta

import pyotp
import pytest

from tongban.core import clock

from .browser_support import browser, new_page, password_step, shot  # noqa: F401  (browser is a fixture)
from .factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_page(browser, live_server, *, phone=False):
    page = new_page(browser, 390 if phone else 1280)
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: page.problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("request", lambda r: page.problems.append(f"外部请求 {r.url}") if not r.url.startswith((live_server.url, "data:")) else None)
    return page


def test_an_administrator_enrols_a_second_factor_and_logs_in_with_it(browser, live_server, county):
    UserFactory(username="sec", roles="secadmin", unit=county.centre)
    page = open_page(browser, live_server, phone=True)
    password_step(page, live_server, "sec")
    page.wait_for_url(re.compile(r"/account/login/2fa/"))
    qr = page.locator(".qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    shot(page, "sec-01-enrol-phone")
    secret = page.get_attribute("#totp-secret", "data-secret")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('确认绑定')")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    shot(page, "sec-02-recovery-codes-phone")
    page.click("button:has-text('继续登录')")
    page.wait_for_url(re.compile(r"/account/manage/"))
    assert "账号管理" in page.inner_text("h1")

    # next time: password, then the 6-digit code
    page.context.clear_cookies()
    password_step(page, live_server, "sec")
    page.wait_for_url(re.compile(r"/account/login/verify/"))
    shot(page, "sec-03-verify-phone")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=30)))  # a code not used yet
    page.click("button:has-text('验证并登录')")
    page.wait_for_url(re.compile(r"/account/manage/"))
    assert not page.problems, page.problems


def test_a_demo_account_is_welcomed_and_may_skip_in_demo_mode(browser, live_server, county, settings):
    settings.TONGBAN_DEMO = True
    UserFactory(username="admin", roles="sysadmin", unit=county.centre, is_staff=True, is_demo=True, must_change_password=True)
    page = open_page(browser, live_server)
    password_step(page, live_server, "admin")
    page.wait_for_url(re.compile(r"/account/login/welcome/"))
    text = page.inner_text("main")
    assert "示范账号" in text and "修改初始密码" in text and "绑定双因素认证" in text
    shot(page, "sec-04-demo-welcome")
    page.click("button:has-text('跳过')")
    page.wait_for_url(re.compile(r"/settings/"))
    nav = page.inner_text("nav.nav")
    assert "系统设置" in nav and "审计" not in nav
    assert not page.problems, page.problems
