"""In Chromium: every page works under the Content-Security-Policy (a blocked script, style or request
fails the test, see conftest's `_csp_violation`), and a hostile `next` after sign-in stays on the site."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from engine.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def sign_in_at(browser: object, server: str, path: str) -> object:
    context = browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{server}{path}")
    page.fill("#signin-name", "lei")
    page.fill("#signin-password", DEMO_PASSWORD)
    page.click("#signin-form button[type=submit]")
    return page


@pytest.mark.parametrize(
    "hostile", ["/%5Cexample.invalid/x", "/%09/example.invalid/x", "/%5C%5Cexample.invalid"]
)
def test_a_hostile_next_after_sign_in_stays_on_the_site(browser: object, server: str, hostile: str) -> None:
    page = sign_in_at(browser, server, f"/signin?next={hostile}")
    page.wait_for_url(re.compile(r"/inbox$"))
    assert urlsplit(page.url).netloc == urlsplit(server).netloc
    page.context.close()


def test_a_next_page_of_the_site_is_where_sign_in_leads(browser: object, server: str) -> None:
    page = sign_in_at(browser, server, "/signin?next=%2Finstances%3Fstatus%3Drunning")
    page.wait_for_url(re.compile(r"/instances\?status=running$"))
    page.context.close()


def test_every_page_renders_under_the_policy(sign_in, server: str, shot) -> None:
    leader = sign_in("lei")
    for path, ready in (
        ("/inbox", "#main"),
        ("/instances", "#main"),
        ("/start/ops_optimization", ".fjs-container"),
    ):
        leader.goto(f"{server}{path}")
        expect(leader.locator(ready).first).to_be_visible()
        shot(leader, path.strip("/").replace("/", "-"))
    designer = sign_in("dora")
    for path, ready in (("/designer", ".djs-container"), ("/designer/forms", ".fjs-editor-container")):
        designer.goto(f"{server}{path}")
        expect(designer.locator(ready).first).to_be_visible()
        shot(designer, path.strip("/").replace("/", "-"))
    for page in (leader, designer):
        assert page.evaluate("document.querySelector('style, link[rel=stylesheet]') !== null")


def test_a_script_slipped_into_a_page_does_not_run(browser: object, server: str) -> None:
    """What the policy is for: markup that got into a page (a stored XSS) cannot run inline code or
    load code from elsewhere; Chromium reports it, which is how the other browser tests notice a
    page that breaks the policy."""
    page = browser.new_page()
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text))
    page.goto(f"{server}/signin")
    page.evaluate(
        """() => {
            const inline = document.createElement('script');
            inline.textContent = 'window.pwned = true';
            document.body.append(inline);
            const remote = document.createElement('script');
            remote.src = 'https://evil.example/x.js';
            document.body.append(remote);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned === undefined")
    assert sum("Content Security Policy" in r for r in reports) >= 2, reports
    page.close()
