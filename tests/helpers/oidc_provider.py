"""A small OpenID Connect provider for tests: a real HTTP server on a loopback port with discovery,
JWKS, an authorization endpoint (a sign-in form) and a token endpoint that checks the client's secret,
the redirect URI and the PKCE verifier (S256), then issues an ID token signed with RS256 (joserfc).

Tests can make the next ID token wrong on purpose (`provider.tamper`: claims to override or drop, or
a signature by a key the provider does not publish), to see the client refuse it."""

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from engine.config import Settings
from tests.helpers.server import free_port, live_server


@dataclass
class Account:
    subject: str
    password: str
    claims: dict[str, Any]  # preferred_username, name, groups, ...


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    accounts: dict[str, Account] = field(default_factory=dict)  # by login name
    tamper: dict[str, Any] = field(
        default_factory=dict
    )  # claims of the next ID token: value, or None to drop
    sign_with_stranger_key: bool = False  # sign the next ID token with a key not in the JWKS
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
    )
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def add(self, login: str, password: str, **claims: Any) -> Account:
        account = Account(subject=f"sub-{secrets.token_hex(4)}", password=password, claims=claims)
        self.accounts[login] = account
        return account

    def id_token(self, account: Account, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": account.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **account.claims,
        }
        for name, value in self.tamper.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.key
        if self.sign_with_stranger_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _form(params: dict[str, str], error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    return (
        "<!doctype html><html lang='en'><head><title>Test identity provider</title></head><body>"
        f"<h1>Test identity provider</h1><p id='idp-error'>{escape(error)}</p>"
        f"<form method='post' action='/authorize'>{hidden}"
        "<label>Login <input id='idp-login' name='login'></label>"
        "<label>Password <input id='idp-password' name='password' type='password'></label>"
        "<button id='idp-submit' type='submit'>Sign in</button></form></body></html>"
    )


def build_app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.issuer,
            "authorization_endpoint": f"{provider.issuer}/authorize",
            "token_endpoint": f"{provider.issuer}/token",
            "jwks_uri": f"{provider.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [provider.key.as_dict(private=False)]}

    @app.get("/authorize", response_class=HTMLResponse)
    def authorize(request: Request) -> HTMLResponse:
        params = dict(request.query_params)
        problem = _authorization_problem(provider, params)
        if problem:
            return HTMLResponse(f"<p id='idp-error'>{escape(problem)}</p>", status_code=400)
        return HTMLResponse(_form(params))

    @app.post("/authorize", response_model=None)
    async def approve(request: Request) -> HTMLResponse | RedirectResponse:
        params = {k: str(v) for k, v in (await request.form()).items()}
        login, password = params.pop("login", ""), params.pop("password", "")
        problem = _authorization_problem(provider, params)
        if problem:
            return HTMLResponse(f"<p id='idp-error'>{escape(problem)}</p>", status_code=400)
        account = provider.accounts.get(login)
        if account is None or account.password != password:
            return HTMLResponse(_form(params, "wrong login or password"), status_code=401)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "account": account,
            "redirect_uri": params["redirect_uri"],
            "challenge": params["code_challenge"],
            "nonce": params["nonce"],
        }
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    @app.post("/token")
    def token(
        request: Request,
        grant_type: str = Form(""),
        code: str = Form(""),
        redirect_uri: str = Form(""),
        code_verifier: str = Form(""),
    ) -> JSONResponse:
        provider.token_requests.append({"code": code, "code_verifier": code_verifier})
        expected = (
            "Basic " + base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
        )
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = provider.codes.pop(code, None)  # a code is good once
        if grant_type != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown code"}, 400)
        if redirect_uri != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
        if not code_verifier or _s256(code_verifier) != grant["challenge"]:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400
            )
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(grant["account"], grant["nonce"]),
            },
            headers={"Cache-Control": "no-store"},
        )

    return app


def _authorization_problem(provider: Provider, params: dict[str, str]) -> str:
    if params.get("client_id") != provider.client_id:
        return "unknown client"
    if params.get("redirect_uri") != provider.redirect_uri:
        return "redirect_uri is not registered"
    if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
        return "only the code flow with the openid scope"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return "PKCE (S256) is required"
    if not params.get("state") or not params.get("nonce"):
        return "state and nonce are required"
    return ""


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[Provider]:
    """A provider on its own loopback port, for a client whose callback is `redirect_uri`."""
    port = free_port()
    provider = Provider(
        issuer=f"http://127.0.0.1:{port}",
        client_id="opsflow",
        client_secret=secrets.token_urlsafe(16),
        redirect_uri=redirect_uri,
    )
    with live_server(build_app(provider), port=port):
        yield provider


def sso_settings(db_url: str, provider: Provider, app_url: str, **options: object) -> Settings:
    """Settings of an opsflow at `app_url` that signs in through `provider`."""
    values: dict = {
        "database_url": db_url,
        "run_worker": False,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": provider.client_id,
        "oidc_client_secret": provider.client_secret,
        "oidc_provider_name": "Example ID",
        "public_base_url": app_url,
    }
    return Settings(**{**values, **options})
