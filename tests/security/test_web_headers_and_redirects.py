"""The pages' security headers, and where a sign-in may lead: only to a page of this site, however
the `next` address is spelled."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security_headers import CONTENT_SECURITY_POLICY
from api.web.routes import safe_next
from engine.config import Settings
from engine.engine import build_engine
from tests.conftest import empty_database
from tests.helpers.api import Api

PAGES = [
    "/signin",
    "/inbox",
    "/instances",
    "/designer",
    "/designer/forms",
    "/tasks/t1",
    "/instances/i1",
    "/start/p",
]

#: ways to write "another site" that a browser follows from a path-looking `next`
HOSTILE = [
    "/%5Cevil.example/x",  # /\evil.example: a backslash is a slash to browsers
    "/%09/evil.example/x",  # a tab is dropped: //evil.example
    "/%0A/evil.example/x",
    "/%0D/evil.example/x",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "//evil.example/x",
    "%2F%2Fevil.example",
    "///evil.example",
    "/%2F/evil.example",
    "%20//evil.example",  # leading spaces are trimmed
    "/%E3%80%80/evil.example",  # an ideographic space
    "/%00/evil.example",
    "/%7F/evil.example",
    "https://evil.example/x",
    "HTTPS:%2F%2Fevil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "%09javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "/signin?next=//evil.example",
]
FRIENDLY = [
    ("/inbox", "/inbox"),
    ("/tasks/3f2a%3Ffrom%3Dinbox", "/tasks/3f2a?from=inbox"),
    ("/instances/9%23history", "/instances/9#history"),
    ("/%252Fx", "/%2Fx"),  # an escaped slash stays an escape: a path of this site
]


@pytest.fixture(scope="module")
def api(_database_urls: dict[str, str]) -> Iterator[Api]:
    """Pages need no data: one app on an empty SQLite database, with one user for the API's answers."""
    settings = Settings(database_url=empty_database("sqlite", _database_urls), run_worker=False)
    engine = build_engine(settings)
    engine.identity.create_user("lei", ["leader"])
    with TestClient(create_app(settings, engine=engine)) as client:
        yield Api(
            client, {"lei": engine.identity.issue_token("lei")}, app_factory=lambda: create_app(settings)
        )
    engine.close()


def next_page(api: Api, raw_query: str) -> str:
    """Where the sign-in page will send the browser ("" = the user's home page)."""
    response = api.client.get(f"/signin?next={raw_query}")
    if response.status_code == 422:  # a NUL in the URL: refused before any page (api/limits.py)
        return ""
    assert response.status_code == 200, response.text
    return re.search(r'data-next="([^"]*)"', response.text).group(1)


@pytest.mark.parametrize("target", HOSTILE)
def test_a_sign_in_never_leads_off_the_site(api: Api, target: str) -> None:
    assert next_page(api, target) == ""


@pytest.mark.parametrize(("raw", "target"), FRIENDLY)
def test_a_sign_in_leads_back_to_the_page_asked_for(api: Api, raw: str, target: str) -> None:
    assert next_page(api, raw) == target


def test_the_next_page_is_escaped_in_the_page() -> None:
    assert safe_next('/x"><script>alert(1)</script>') is not None  # a harmless path on this site...


def test_the_next_page_is_escaped_where_it_is_written(api: Api) -> None:
    html = api.call(None, "GET", "/signin?next=/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E").text
    assert "<script>alert" not in html  # ...written as text, never as markup
    assert next_page(api, "/x%22%3E%3Cb%3E") == "/x&#34;&gt;&lt;b&gt;"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_api_answers_and_refusals_carry_them_too(api: Api) -> None:
    for response in (
        api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {api.tokens['lei']}"}),
        api.client.get("/api/v1/tasks"),  # 401
        api.client.get("/api/v1/tasks?stage=%00"),  # refused by the limits before any route
        api.client.get("/web/static/app.js"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_api_docs_keep_working_without_the_policy(api: Api) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
