"""The Content-Security-Policy in a real browser: the main pages (markets, an
instrument with its tickets and polling, the catalogue, log-in, the admin, the API
docs) run without a single CSP violation; the API docs render Swagger UI with every
request outside the server blocked, as on a network without internet."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.exchange.conftest import make_instrument
from tests.otp import device_of, enter_code

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def watched(new_context, site):
    context = new_context(locale="en-US", viewport=VIEWPORT)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else 0,
    )
    return page, console


def test_pages_raise_no_csp_violation(new_context, site):
    instrument = make_instrument()
    operator = get_user_model().objects.create_superuser("ops", "", "pw-op-123")
    device_of(operator)
    page, console = watched(new_context, site)
    seen = {}
    for path, ready in [
        ("/", "h1"),
        (f"/markets/{instrument.symbol}/", "#book"),
        ("/catalogue/chips/", "h1"),
        ("/catalogue/regions/", "h1"),
        ("/accounts/login/", "h1"),
        ("/api/docs/", ".swagger-ui .info .title"),
    ]:
        page.goto(f"{site}{path}")
        expect(page.locator(ready).first).to_be_visible()
        seen[path] = page.evaluate("window.__csp")
    page.goto(f"{site}/admin/login/")
    page.locator("#id_username").fill("ops")
    page.locator("#id_password").fill("pw-op-123")
    page.locator("input[type=submit]").click()
    expect(page.locator("#id_otp_token")).to_be_visible()
    seen["/accounts/otp/"] = page.evaluate("window.__csp")
    enter_code(page, operator)
    expect(page.locator("#site-name")).to_be_visible()
    seen["/admin/"] = page.evaluate("window.__csp")
    assert {p: v for p, v in seen.items() if v} == {}
    assert console == []


def test_instrument_page_polls_and_switches_tabs_without_inline_script(
    new_context, site
):
    """The ticket's tabs and the language menu work from static/js/site.js."""
    instrument = make_instrument()
    page, _ = watched(new_context, site)
    page.goto(f"{site}/markets/{instrument.symbol}/")
    with page.expect_request(lambda r: "/book/" in r.url, timeout=10_000):
        pass  # the book is polled every 3 s
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert page.evaluate("window.__csp") == []


def test_api_docs_render_with_the_internet_blocked(new_context, site):
    context = new_context(locale="en-US", viewport=VIEWPORT)
    blocked = []

    def only_the_server(route):
        if route.request.url.startswith(site):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    page.goto(f"{site}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Yiwang compute exchange API"
    )
    expect(page.locator(".opblock").first).to_be_visible()
    assert blocked == []
