"""Browser tests: a real uvicorn on a SQLite file, driven by Debian's Chromium through Playwright.
Each test saves a screenshot of every page it visits into test-artifacts/screenshots/."""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from engine.seed import DEMO_PASSWORD, create_demo_users, deploy_handbook
from tests.conftest import _empty
from tests.helpers.server import live_server

CHROMIUM = os.environ.get("OPSFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 20_000


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> str:
    """Browser tests run on the SQLite file only (the API tests cover PostgreSQL)."""
    _empty(_database_urls[request.param])
    return _database_urls[request.param]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(engine: ProcessEngine, settings: Settings) -> Iterator[str]:
    """`opsflow serve --demo` on a fresh database: the handbook deployed, the demo users with passwords."""
    deploy_handbook(engine)
    create_demo_users(engine)
    with live_server(create_app(settings)) as url:
        yield url


class Rest:
    """The JSON API of the live server, for steps a test does not do through a page."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.tokens: dict[str, str] = {}

    def call(self, user: str, method: str, path: str, expect: int = 200, **kwargs: object) -> object:
        if user not in self.tokens:
            r = self.client.post("/api/v1/session", json={"name": user, "password": DEMO_PASSWORD})
            r.raise_for_status()
            self.tokens[user] = r.json()["token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        r = self.client.request(method, path, headers=headers, **kwargs)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text

    def task(self, user: str, instance_id: str, element_id: str) -> dict:
        items = self.call(user, "GET", "/api/v1/tasks", params={"instance": instance_id})["items"]
        found = [t for t in items if t["element_id"] == element_id]
        assert len(found) == 1, f"{user} should see one {element_id}: {items}"
        return found[0]

    def complete(self, user: str, task_id: str, data: dict) -> dict:
        return self.call(user, "POST", f"/api/v1/tasks/{task_id}/complete", json={"data": data})


@pytest.fixture
def rest(server: str) -> Iterator[Rest]:
    api = Rest(server)
    yield api
    api.client.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[object, str], Path]:
    """shot(page, "step") saves test-artifacts/screenshots/<test>-<step>.png (the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def save(page: object, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def sign_in(browser: object, server: str) -> Iterator[Callable[..., object]]:
    """sign_in("dana") -> a page of a fresh browser context (its own sessionStorage and cookies), signed in
    on the inbox (or wherever the sign-in sends that user). Contexts close before the server stops."""
    contexts = []

    def open_page(user: str, *, lang: str = "zh") -> object:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if lang == "en":
            context.add_init_script("localStorage.setItem('opsflow.lang', 'en')")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: _csp_violation(msg, errors))
        page.js_errors = errors
        page.goto(f"{server}/signin")
        page.fill("#signin-name", user)
        page.fill("#signin-password", DEMO_PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_url(re.compile(r"/(inbox|designer)"))
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            assert not getattr(page, "js_errors", []), f"JavaScript errors on {page.url}: {page.js_errors}"
        context.close()


def _csp_violation(message: object, errors: list[str]) -> None:
    """Chromium reports what the Content-Security-Policy blocked on the console only: a page that
    needs something the policy refuses fails its test like a JavaScript error would."""
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(message.text)
