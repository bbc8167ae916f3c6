"""The API documentation works on a network without the internet: Swagger UI comes from our own server."""

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_api_with_every_outside_request_blocked(browser, server: str, shot) -> None:
    context = browser.new_context()
    outside: list[str] = []

    def only_our_server(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_server)
    page = context.new_page()
    try:
        page.goto(f"{server}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        assert "/api/v1/process-instances" in page.locator(".opblock-summary-path").all_inner_texts()
        shot(page, "swagger")
        assert outside == []
    finally:
        context.close()
