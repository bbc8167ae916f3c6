"""Signing in through an OpenID Connect provider (authorization code flow with PKCE), over HTTP against
a real provider on loopback: who gets in, with which groups, and every check that refuses a sign-on."""

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.helpers.oidc_provider import Provider


def start(client: TestClient, next_url: str = "") -> str:
    """Open /auth/oidc/login: the provider's authorization URL (the state cookie stays in `client`)."""
    response = client.get("/auth/oidc/login", params={"next": next_url}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def approve(authorization_url: str, login: str, password: str) -> str:
    """Sign in at the provider's form: where it sends the browser back (the callback with a code)."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
    assert httpx.get(authorization_url).status_code == 200  # the provider accepts the request
    base = authorization_url.split("?")[0]
    response = httpx.post(base, data={**params, "login": login, "password": password})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def come_back(client: TestClient, callback_url: str) -> dict[str, str]:
    """Follow the provider's redirect to the callback: the query of the sign-in page it sends to."""
    response = client.get(callback_url.replace("http://testserver", ""), follow_redirects=False)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/signin"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def sign_on(client: TestClient, login: str, password: str = "idp-pass", next_url: str = "") -> dict[str, str]:
    return come_back(client, approve(start(client, next_url), login, password))


def handed_token(client: TestClient, expect: int = 200) -> str | None:
    response = client.post("/web/sso/token")
    assert response.status_code == expect, response.text
    return response.json()["token"] if expect == 200 else None


def me(client: TestClient, token: str) -> dict:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_new_user_is_created_on_first_sign_in_with_the_groups_of_the_claim(
    opsflow, provider: Provider
) -> None:
    client = opsflow(oidc_create_users=True)
    provider.add(
        "nina@idp", "idp-pass", preferred_username="nina", name="Nina Wu", groups=["data", "accounting"]
    )
    assert sign_on(client, "nina@idp", next_url="/instances") == {"sso": "done", "next": "/instances"}
    token = handed_token(client)
    # accounting is no group here (yet): ignored
    assert me(client, token) == {
        "name": "nina",
        "display_name": "Nina Wu",
        "groups": ["data"],
        "disabled": False,
    }
    handed_token(client, expect=401)  # handed over once

    # the next sign-in finds her by her provider account; the claim replaces her groups
    body = {"id": "accounting", "name_zh": "会计", "name_en": "Accounting"}
    assert client.post("/api/v1/groups", json=body, headers=ada(client)).status_code == 201
    assert sign_on(client, "nina@idp") == {"sso": "done"}
    assert me(client, handed_token(client))["groups"] == ["accounting", "data"]
    provider.accounts["nina@idp"].claims["groups"] = ["execution"]
    sign_on(client, "nina@idp")
    assert me(client, handed_token(client))["groups"] == ["execution"]
    del provider.accounts["nina@idp"].claims["groups"]  # no claim: her groups stay
    sign_on(client, "nina@idp")
    assert me(client, handed_token(client))["groups"] == ["execution"]

    audit = client.get("/api/v1/audit", params={"type": "sso_signed_in"}, headers=ada(client)).json()
    assert [e["actor"] for e in audit["items"]] == ["nina"] * 4
    assert audit["items"][-1]["details"]["groups"] == ["data", "accounting"]


def test_an_unknown_user_is_refused_when_users_are_not_created(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_create_users=False)
    provider.add("stranger@idp", "idp-pass", preferred_username="stranger")
    assert sign_on(client, "stranger@idp") == {"sso_error": "unknown_user"}
    handed_token(client, expect=401)
    assert "stranger" not in [u["name"] for u in client.get("/api/v1/users", headers=ada(client)).json()]


def test_a_local_user_of_the_same_name_is_linked_only_when_the_settings_allow_it(
    opsflow, provider: Provider
) -> None:
    provider.add("dana@idp", "idp-pass", preferred_username="dana", groups=["data"])
    assert sign_on(opsflow(oidc_create_users=True), "dana@idp") == {"sso_error": "name_taken"}
    client = opsflow(oidc_link_existing_users=True)
    assert sign_on(client, "dana@idp") == {"sso": "done"}
    assert me(client, handed_token(client))["name"] == "dana"
    # linked to that provider account only: another account claiming the name is refused
    provider.add("fake-dana@idp", "idp-pass", preferred_username="dana")
    assert sign_on(client, "fake-dana@idp") == {"sso_error": "name_taken"}


@pytest.mark.parametrize(
    ("tamper", "what"),
    [
        ({"iss": "http://127.0.0.1:1/another-issuer"}, "issuer"),
        ({"aud": "another-client"}, "audience"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nonce": "a-nonce-we-never-sent"}, "nonce"),
        ({"nonce": None}, "no nonce"),
        ({"sub": None}, "no subject"),
    ],
)
def test_an_id_token_with_a_wrong_claim_is_refused(
    opsflow, provider: Provider, tamper: dict, what: str
) -> None:
    client = opsflow(oidc_create_users=True)
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    provider.tamper = tamper
    assert sign_on(client, "nina@idp") == {"sso_error": "token"}, what
    handed_token(client, expect=401)


def test_an_id_token_signed_by_another_key_is_refused(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_create_users=True)
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    provider.sign_with_stranger_key = True
    assert sign_on(client, "nina@idp") == {"sso_error": "token"}


def test_a_callback_whose_state_is_not_this_browsers_is_refused(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_create_users=True)
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    callback = approve(start(client), "nina@idp", "idp-pass")

    other_browser = opsflow(oidc_create_users=True)  # no state cookie: a link forced on someone else
    assert come_back(other_browser, callback) == {"sso_error": "state"}
    assert come_back(client, callback) == {"sso": "done"}
    assert come_back(client, callback) == {"sso_error": "state"}  # a sign-on finishes once

    callback = approve(start(client), "nina@idp", "idp-pass")
    forged = callback.replace("state=", "state=x")  # this browser, another state
    assert come_back(client, forged) == {"sso_error": "state"}
    assert come_back(client, callback) == {"sso_error": "state"}  # the refusal ended that sign-on


def test_a_code_issued_for_another_sign_on_fails_pkce(opsflow, provider: Provider) -> None:
    """A code injected into another sign-on (its state is genuine) cannot be redeemed: the verifier
    sent with it is that sign-on's, and the provider checks it against the code's challenge."""
    client = opsflow(oidc_create_users=True)
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    first = approve(start(client), "nina@idp", "idp-pass")
    second_url = start(client)  # the browser now keeps the second sign-on's state
    second_state = parse_qs(urlsplit(second_url).query)["state"][0]
    first_code = parse_qs(urlsplit(first).query)["code"][0]
    injected = f"/auth/oidc/callback?code={first_code}&state={second_state}"
    assert come_back(client, injected) == {"sso_error": "provider"}
    sent = provider.token_requests[-1]
    assert sent["code"] == first_code and sent["code_verifier"]  # refused by the provider's PKCE check


def test_the_authorization_request_carries_pkce_state_and_nonce(opsflow, provider: Provider) -> None:
    url = start(opsflow())
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{provider.issuer}/authorize?")
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["redirect_uri"] == "http://testserver/auth/oidc/callback"
    assert params["client_id"] == "opsflow" and "openid" in params["scope"].split()


def test_a_disabled_user_cannot_sign_in_through_the_provider(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_create_users=True)
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    sign_on(client, "nina@idp")
    token = handed_token(client)
    disabled = client.patch("/api/v1/users/nina", json={"disabled": True}, headers=ada(client))
    assert disabled.status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_on(client, "nina@idp") == {"sso_error": "disabled"}


def test_a_refusal_at_the_provider_and_an_outside_next_page(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_create_users=True)
    assert come_back(client, "/auth/oidc/callback?error=access_denied&state=x") == {"sso_error": "provider"}
    provider.add("nina@idp", "idp-pass", preferred_username="nina")
    assert sign_on(client, "nina@idp", next_url="https://evil.example/") == {"sso": "done"}


def test_the_sign_in_page_offers_the_provider_only_when_configured(opsflow, api) -> None:
    page = opsflow().get("/signin").text
    assert 'id="signin-sso"' in page and 'data-provider="Example ID"' in page
    assert 'id="signin-sso"' not in api.client.get("/signin").text
    assert api.client.get("/auth/oidc/login", follow_redirects=False).status_code == 404
    assert 'id="signin-password"' in page  # local passwords stay


def ada(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.app.state.engine.identity.issue_token('ada')}"}


def test_an_unreachable_provider_is_said_on_the_sign_in_page(opsflow, provider: Provider) -> None:
    client = opsflow(oidc_issuer="http://127.0.0.1:9/nobody-listens")
    response = client.get("/auth/oidc/login", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin?sso_error=provider"
