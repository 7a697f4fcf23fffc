"""A clerk accepts 企业开办 at the window in headless Chromium, at desk (1280 px) and phone (390 px)
widths: types the ID, sees the e-licence satisfy a material, gets errors in Chinese with the form
kept, accepts, and opens the receipt."""
import pytest

from tongban.hall.models import Application

from .browser_support import browser, login, shot  # noqa: F401  (browser is a fixture)
from .hall_fixtures import ID_A, give_licence, hallx  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_clerk_accepts_a_package(browser, live_server, hallx, width):
    h = hallx
    give_licence("居民身份证")
    page = login(browser, live_server, "clerk1", width)
    page.goto(f"{live_server.url}/hall/?q=企业开办")
    page.click("a:has-text('企业开办一件事')")
    page.wait_for_selector("text=一表申请")
    page.fill("input[name=name]", "王小明")
    page.fill("input[name=phone]", "13912345678")
    page.fill("input[name=id_number]", ID_A)
    page.locator("input[name=id_number]").dispatch_event("change")
    page.wait_for_selector("text=电子证照免提交")  # htmx re-drew the checklist: the ID card comes from the store
    page.fill("input[name=f_applicant_name]", "王小明")
    page.fill("input[name=f_phone]", "13912345678")
    page.fill("input[name=f_applicant_id]", ID_A[:-1] + ("1" if ID_A[-1] != "1" else "2"))  # wrong check digit
    assert page.locator("input[name=f_uscc]").count() == 0 and "出证时自动生成" in page.content()  # the licence assigns it
    for key in ("articles", "lease"):
        page.check(f"input[name=m_{key}][value=present]")
    page.click("button:has-text('受理并打印回执')")
    page.wait_for_selector(".errors")
    assert "不是有效的身份证号码" in page.content() and "请填写“企业名称”" in page.content()
    assert page.input_value("input[name=f_applicant_id]") != ID_A and page.input_value("input[name=name]") == "王小明"
    shot(page, f"hall-01-errors-{width}")
    page.fill("input[name=f_applicant_id]", ID_A)
    page.fill("input[name=f_company_name]", "青溪小明餐饮有限公司")
    page.click("button:has-text('受理并打印回执')")
    page.wait_for_load_state()
    assert page.locator(".msg.success").count() == 1, page.inner_text("main")[:600]
    app = Application.objects.get()
    assert app.case.number in page.inner_text(".msg.success") and "并联审批（3 个部门同时办理）" in page.content()
    assert app.checks.get(key="id_card").state == "licence"
    shot(page, f"hall-02-accepted-{width}")
    pdf = page.request.get(f"{live_server.url}/hall/a/{app.case.number}/receipt.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    # no horizontal scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.goto(f"{live_server.url}/hall/")
    assert app.case.number in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    shot(page, f"hall-03-home-{width}")


def test_late_checklist_redraw_keeps_the_clerks_ticks(browser, live_server, hallx):
    """The ID lookup re-draws the checklist; if its answer arrives after the clerk ticked materials,
    the ticks survive (they were lost before, and the application came back as 缺材料)."""
    give_licence("居民身份证")
    page = login(browser, live_server, "clerk1")
    page.goto(f"{live_server.url}/hall/?q=企业开办")
    page.click("a:has-text('企业开办一件事')")
    page.wait_for_selector("text=一表申请")
    held = []
    page.route("**/hall/new/checklist/", lambda route: route.continue_() if held else held.append(route))
    page.fill("input[name=id_number]", ID_A)
    page.press("input[name=id_number]", "Tab")  # leaving the field fires the lookup
    page.wait_for_selector(".htmx-request", state="attached")  # the lookup is on its way
    page.check("input[name=m_articles][value=present]")
    page.check("input[name=m_lease][value=deferred]")
    held[0].continue_()
    page.wait_for_selector("text=电子证照免提交")
    page.wait_for_selector(".htmx-request", state="detached")
    assert len(held) == 1
    assert page.is_checked("input[name=m_articles][value=present]")
    assert page.is_checked("input[name=m_lease][value=deferred]")
