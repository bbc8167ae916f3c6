"""Single sign-on tests run the loopback OpenID Connect provider of tests/helpers/oidc_provider.py and
an opsflow app configured to use it."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine.engine import ProcessEngine
from tests.helpers.oidc_provider import Provider, running_provider, sso_settings

APP_URL = "http://testserver"  # where TestClient's requests go


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(f"{APP_URL}/auth/oidc/callback") as provider:
        yield provider


@pytest.fixture
def opsflow(handbook: ProcessEngine, db_url: str, provider: Provider) -> Iterator[Callable[..., TestClient]]:
    """opsflow(**settings) -> a browser-like client (it keeps cookies) of an app using the provider.
    The demo users exist (local accounts, no provider account)."""
    clients = []

    def start(**options: object) -> TestClient:
        client = TestClient(create_app(sso_settings(db_url, provider, APP_URL, **options)))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)
