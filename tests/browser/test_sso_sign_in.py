"""Signing in through the organisation's identity provider in Chromium: the sign-in page offers it,
the provider's own form signs the person in, and they arrive in their inbox with the groups the
provider names; a refused sign-on comes back to the sign-in page saying why. The provider is the real
loopback one of tests/helpers/oidc_provider.py."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from api.main import create_app
from engine.engine import ProcessEngine
from engine.seed import create_demo_users, deploy_handbook
from tests.browser.conftest import TIMEOUT_MS
from tests.helpers.oidc_provider import Provider, running_provider, sso_settings
from tests.helpers.server import free_port, live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def sso_server(engine: ProcessEngine, db_url: str) -> Iterator[tuple[str, Provider]]:
    """opsflow (demo users, the handbook) using the loopback provider; unknown users are created."""
    deploy_handbook(engine)
    create_demo_users(engine)
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    with running_provider(f"{app_url}/auth/oidc/callback") as provider:
        settings = sso_settings(db_url, provider, app_url, oidc_create_users=True)
        with live_server(create_app(settings), port=port) as url:
            yield url, provider


def new_page(browser: object, lang: str = "zh") -> object:
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    if lang == "en":
        context.add_init_script("localStorage.setItem('opsflow.lang', 'en')")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def test_a_person_signs_in_through_the_identity_provider(browser, sso_server, shot) -> None:
    url, provider = sso_server
    provider.add("nina@example.org", "idp-pass", preferred_username="nina", name="Nina Wu", groups=["data"])
    page = new_page(browser)
    page.goto(f"{url}/instances")  # not signed in: to the sign-in page, which remembers where she was going
    page.wait_for_url(re.compile(r"/signin\?next="))
    sso = page.locator("#signin-sso")
    expect(sso).to_have_text("通过 Example ID 登录")
    expect(page.locator("#signin-password")).to_be_visible()  # local passwords stay
    shot(page, "01-signin")

    sso.click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/authorize"))
    page.fill("#idp-login", "nina@example.org")
    page.fill("#idp-password", "idp-pass")
    shot(page, "02-provider")
    page.click("#idp-submit")
    page.wait_for_url(re.compile(r"/instances$"))
    expect(page.locator("#whoami")).to_have_text("Nina Wu · 数据组")
    expect(page.locator("#main-nav a[data-nav=admin]")).to_be_hidden()
    shot(page, "03-signed-in")
    assert page.evaluate("JSON.parse(sessionStorage.getItem('opsflow.session')).name") == "nina"
    assert not page.js_errors, page.js_errors
    page.context.close()


def test_a_refused_sign_on_comes_back_to_the_sign_in_page_saying_why(browser, sso_server, shot) -> None:
    url, provider = sso_server
    provider.add("impostor@example.org", "idp-pass", preferred_username="dana")  # dana is a local user
    page = new_page(browser, lang="en")
    page.goto(f"{url}/signin")
    expect(page.locator("#signin-sso")).to_have_text("Sign in with Example ID")
    page.click("#signin-sso")
    page.fill("#idp-login", "impostor@example.org")
    page.fill("#idp-password", "idp-pass")
    page.click("#idp-submit")
    page.wait_for_url(re.compile(r"/signin\?sso_error=name_taken"))
    expect(page.locator("#signin-error")).to_contain_text("Single sign-on failed (name_taken)")
    assert page.evaluate("sessionStorage.getItem('opsflow.session')") is None
    shot(page, "01-refused")
    assert not page.js_errors, page.js_errors
    page.context.close()
