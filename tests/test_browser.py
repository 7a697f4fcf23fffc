"""End to end in headless Chromium (Debian's package): one request goes round the whole loop
through the real pages, at desk and phone widths."""
import pytest

from tongban.cases.models import Case

from .browser_support import browser, login, shot  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_request_goes_round_the_loop_through_the_pages(browser, live_server, county, settings):
    settings.TONGBAN_RANK_MIN_CASES = 1  # one case is enough to rank the unit in this test
    # 话务员 takes the call
    page = login(browser, live_server, "operator")
    assert "受理台" in page.content()
    page.check("input[name=case_type][value='%d']" % county.complaint.pk)
    page.fill("input[name=requester_phone]", "13812345678")
    page.fill("input[name=requester_name]", "王五")
    page.fill("input[name=address]", "柳泉镇桃园村三组")
    page.fill("textarea[name=content]", "村里主路上的路灯已经坏了两周，晚上老人出行很不安全，请尽快维修。")
    shot(page, "01-console")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".msg.success")
    number = Case.objects.get().number
    assert number in page.inner_text(".msg.success")

    # 派单员 dispatches from the queue (htmx, no reload)
    page = login(browser, live_server, "dispatcher")
    page.goto(f"{live_server.url}/dispatch/")
    row = page.locator("tr", has_text=number)
    row.locator("select[name=dispatch-unit]").select_option(label="县住房和城乡建设局")
    shot(page, "02-dispatch")
    row.locator("button:has-text('派单')").click()
    page.wait_for_selector("td.done")
    assert "已派单" in page.inner_text("td.done")

    # 承办人 signs in the inbox on a phone, then finishes on the case page
    page = login(browser, live_server, "handler", 390)
    page.goto(f"{live_server.url}/inbox/")
    shot(page, "03-inbox-phone")
    page.locator("tr", has_text=number).locator("button:has-text('签收')").click()
    page.wait_for_selector("td.done")
    page.goto(f"{live_server.url}/cases/{number}/")
    page.click("summary:has-text('办结')")
    page.select_option("select[name=finish-result]", "solved")
    page.fill("textarea[name=finish-reply]", "已更换路灯灯具，现已恢复照明，感谢您的反映。")
    page.click("#act-finish button")
    page.wait_for_selector(".msg.success")
    shot(page, "04-case-phone")
    assert "待回访" in page.content()

    # 话务员 calls back: satisfied, the case closes
    page = login(browser, live_server, "operator")
    page.goto(f"{live_server.url}/callbacks/")
    row = page.locator("tr", has_text=number)
    row.locator("input[name=callback-satisfaction][value=satisfied]").check()
    row.locator("input[name=callback-solved][value='1']").check()
    row.locator("button:has-text('提交回访')").click()
    page.wait_for_selector("td.done")
    case = Case.objects.get(number=number)
    assert case.state == "closed" and case.satisfaction == "satisfied"

    # 督办员 sees the unit ranked, with the chart drawn from the app's own ECharts
    page = login(browser, live_server, "supervisor")
    page.goto(f"{live_server.url}/board/")
    page.wait_for_selector("#rank-chart canvas")
    shot(page, "05-board")
    assert "县住房和城乡建设局" in page.inner_text("table")
    page.goto(f"{live_server.url}/cases/{number}/")
    timeline = page.inner_text(".timeline")
    for step in ("受理", "派单", "签收", "办结", "回访"):
        assert step in timeline
    shot(page, "06-case-closed")


def test_every_tab_is_reachable_at_desk_and_phone_widths(browser, live_server, county):
    """Someone with many roles gets many tabs: on a desk they wrap to a second row (none clipped);
    on a phone they scroll sideways with the current one in view."""
    from .factories import UserFactory

    UserFactory(username="many", roles="operator,dispatcher,supervisor,clerk", unit=county.centre)
    inside = ("[...document.querySelectorAll('.nav a')].filter(a => { const r = a.getBoundingClientRect(),"
              " n = a.parentElement.getBoundingClientRect(); return r.left >= n.left - 1 && r.right <= n.right + 1; }).length")
    page = login(browser, live_server, "many", 1024)
    page.goto(f"{live_server.url}/kb/")
    tabs = page.locator(".nav a").count()
    assert tabs >= 9 and page.evaluate(inside) == tabs
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    shot(page, "nav-many-1024")
    page = login(browser, live_server, "many", 390)
    page.goto(f"{live_server.url}/kb/")
    active = page.locator(".nav a.active")
    assert active.count() == 1
    box, nav = active.bounding_box(), page.locator(".nav").bounding_box()
    assert box["x"] >= nav["x"] - 1 and box["x"] + box["width"] <= nav["x"] + nav["width"] + 1  # the current tab is in view
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "nav-many-390")
