"""Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE (RFC 7636).

`begin` stores a started sign-on (the hash of its `state`, its `nonce` and PKCE `code_verifier`) and
returns the provider's authorization URL; the browser also keeps `state` (the web layer puts it in a
cookie), so a callback is only accepted in the browser that started it. `finish` takes that sign-on back
(once: it is deleted), exchanges the code with the verifier at the token endpoint, verifies the ID
token (signature by the provider's published keys, issuer, audience, expiry, nonce) and signs the user
in: found by their provider account, else linked or created as the settings allow; the groups claim
replaces their groups. Local passwords keep working beside it.

The URLs, tokens and keys are those of the provider's discovery document, read once per process.
"""

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
import sqlalchemy as sa
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import extract_compact
from sqlmodel import Session, col, select

from engine import events
from engine.config import Settings
from engine.errors import SsoRefused
from engine.limits import SSO_CALLBACK_PATH
from engine.services.identity import IdentityService, add_user, is_valid_name
from engine.storage.tables import GroupRow, MembershipRow, SsoLoginRow, UserRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork

#: A started sign-on must come back within this time.
LOGIN_TTL = timedelta(minutes=10)
#: Clock difference tolerated between the provider and us when checking exp and iat.
LEEWAY_SECONDS = 60
HTTP_TIMEOUT = 10.0
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True)
class SsoStart:
    authorization_url: str
    state: str  # for the browser to keep until the callback


@dataclass(frozen=True)
class SsoSignIn:
    user: str
    token: str  # an opsflow session token
    next_url: str


class SsoService:
    def __init__(self, tx: Transactions, identity: IdentityService, settings: Settings) -> None:
        self._tx = tx
        self._identity = identity
        self._settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._settings.oidc_issuer)

    @property
    def provider_name(self) -> str:
        return self._settings.oidc_provider_name

    @property
    def redirect_uri(self) -> str:
        return self._settings.public_base_url.rstrip("/") + SSO_CALLBACK_PATH

    def begin(self, next_url: str = "") -> SsoStart:
        """Start a sign-on: the provider's authorization URL to send the browser to."""
        self._require_enabled()
        metadata = self._discovery()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43-128)
        login = SsoLoginRow(
            state_hash=_hash(state),
            nonce=nonce,
            code_verifier=code_verifier,
            next_url=_local_path(next_url),
            created_at=utcnow(),
        )

        def store(uow: UnitOfWork) -> None:
            expired = utcnow() - LOGIN_TTL  # sign-ons nobody finished go at the next start
            uow.session.execute(sa.delete(SsoLoginRow).where(col(SsoLoginRow.created_at) < expired))
            uow.session.add(login)

        self._tx.write(store)
        url = add_params_to_uri(
            metadata["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self._settings.oidc_client_id),
                ("redirect_uri", self.redirect_uri),
                ("scope", self._settings.oidc_scopes),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", create_s256_code_challenge(code_verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return SsoStart(url, state)

    def finish(self, *, code: str, state: str, browser_state: str | None) -> SsoSignIn:
        """Complete a sign-on from the provider's redirect (`code`, `state`) in the browser that kept
        `browser_state`; raises SsoRefused when any check fails."""
        self._require_enabled()
        if not state or not browser_state or not secrets.compare_digest(state, browser_state):
            raise SsoRefused("state", "the sign-in was not started in this browser")
        login = self._tx.write(lambda uow: _take_login(uow.session, state))
        claims = self._verified_claims(self._exchange(code, login.code_verifier), login.nonce)

        def sign_in(uow: UnitOfWork) -> SsoSignIn:
            session = uow.session
            user = self._user_for(session, claims)
            if user.disabled_at is not None:
                raise SsoRefused("disabled", f"the account {user.name} is disabled")
            groups = claims.get(self._settings.oidc_groups_claim)
            if groups is not None:
                _replace_groups(session, user, groups)
            token = self._identity.add_token(session, user.id, label="sso")
            events.record(
                session,
                events.SSO_SIGNED_IN,
                actor=user.name,
                details={"issuer": claims["iss"], "subject": claims["sub"], "groups": groups},
            )
            return SsoSignIn(user.name, token, login.next_url)

        try:
            return self._tx.write(sign_in)
        finally:
            self._identity.forget_principals()  # the user's groups may have changed

    # --- the provider ------------------------------------------------------------------------------

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise SsoRefused("off", "single sign-on is not configured (OPSFLOW_OIDC_ISSUER)")

    def _discovery(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = self._settings.oidc_issuer or ""
            metadata = self._get(issuer.rstrip("/") + "/.well-known/openid-configuration")
            if metadata.get("issuer") != issuer:
                raise SsoRefused("provider", f"the discovery document names another issuer than {issuer}")
            self._metadata = metadata
        return self._metadata

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused("provider", f"the identity provider did not answer {url}: {exc}") from exc

    def _exchange(self, code: str, code_verifier: str) -> str:
        """The ID token for the authorization code (client_secret_basic, with the PKCE verifier)."""
        if not code:
            raise SsoRefused("provider", "the identity provider sent no authorization code")
        settings = self._settings
        try:
            response = httpx.post(
                self._discovery()["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(settings.oidc_client_id, settings.oidc_client_secret.get_secret_value()),
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT,
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused("provider", f"the token endpoint failed: {exc}") from exc
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            error = body.get("error_description") or body.get("error") or response.status_code
            raise SsoRefused("provider", f"the identity provider refused the code: {error}")
        id_token: str = body["id_token"]
        return id_token

    def _verified_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        settings = self._settings
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": settings.oidc_issuer or ""},  # set: SSO is on
            aud={"essential": True, "value": settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            token = jwt.decode(id_token, self._key_set(id_token), algorithms=SIGNING_ALGORITHMS)
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SsoRefused("token", f"the ID token is not valid: {exc}") from exc
        return token.claims

    def _key_set(self, id_token: str) -> KeySet:
        """The provider's signing keys; read again once when the token names a key we do not have
        (the provider rotated its keys)."""
        kid = _header(id_token).get("kid")
        with self._lock:
            if self._keys is None or (kid and not any(k.kid == kid for k in self._keys.keys)):
                # the provider's JWKS document, as JSON: joserfc reads and checks its keys
                jwks = cast(KeySetSerialization, self._get(self._discovery()["jwks_uri"]))
                self._keys = KeySet.import_key_set(jwks)
            return self._keys

    # --- the user ----------------------------------------------------------------------------------

    def _user_for(self, session: Session, claims: dict[str, Any]) -> UserRow:
        settings = self._settings
        external_id = f"{claims['iss']} {claims['sub']}"
        user = session.exec(select(UserRow).where(UserRow.external_id == external_id)).first()
        if user is not None:
            return user
        name = claims.get(settings.oidc_username_claim)
        if not isinstance(name, str) or not is_valid_name(name):
            raise SsoRefused(
                "name",
                f"the claim {settings.oidc_username_claim} is not a user name (1-64 letters, digits, .-_)",
            )
        local = session.exec(select(UserRow).where(UserRow.name == name)).first()
        if local is not None:
            if not settings.oidc_link_existing_users or local.external_id is not None:
                raise SsoRefused("name_taken", f"a local user named {name} exists and is not this account")
            local.external_id = external_id
            session.add(local)
            return local
        if not settings.oidc_create_users:
            raise SsoRefused("unknown_user", f"{name} has no opsflow account; ask an admin")
        claimed = claims.get("name")
        display_name = claimed if isinstance(claimed, str) else ""
        return add_user(session, name, [], display_name=display_name[:200], external_id=external_id)


def _replace_groups(session: Session, user: UserRow, claim: object) -> None:
    """The user's groups become the provider's groups that exist here (others are ignored: an admin
    creates a group before it means anything)."""
    names = [claim] if isinstance(claim, str) else claim if isinstance(claim, list) else []
    wanted = {g for g in names if isinstance(g, str)}
    known = (
        set(session.exec(select(GroupRow.id).where(col(GroupRow.id).in_(wanted))).all()) if wanted else set()
    )
    session.execute(sa.delete(MembershipRow).where(col(MembershipRow.user_id) == user.id))
    session.add_all(MembershipRow(user_id=user.id, group_id=group) for group in sorted(known))


def _take_login(session: Session, state: str) -> SsoLoginRow:
    """The started sign-on of this state, deleted so that it is used once."""
    login = session.get(SsoLoginRow, _hash(state), with_for_update=True)
    if login is None:
        raise SsoRefused("state", "unknown or already used sign-in state")
    session.delete(login)
    if login.created_at < utcnow() - LOGIN_TTL:
        raise SsoRefused("state", "the sign-in took too long; start again")
    return login


def _header(token: str) -> dict[str, Any]:
    """The token's header, unverified (to choose the key that verifies it)."""
    try:
        return extract_compact(token.encode()).protected
    except (JoseError, ValueError):
        return {}


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _local_path(url: str) -> str:
    """Only a path on this site is a place to go back to (never another site)."""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url and len(url) <= 500:
        return url
    return ""
