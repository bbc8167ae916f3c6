"""API keys for connected systems (service accounts), each limited to the scopes it may use.

A key is a bearer token like any other: a `TokenRow(kind="api_key", scopes=[...])` of a user holding the
integration group, stored as a SHA-256 hash. Its secret (`opf_key_...`) is shown once, when it is created.
Scopes are a ceiling, not a grant: the account's groups still decide what it may do (`engine.permissions`),
and a key may only call the routes whose scope it holds. Session tokens have no scopes (None).
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from engine import events
from engine.errors import Forbidden, InvalidInput, NotFound, Problem, Unauthenticated
from engine.limits import MAX_API_KEY_EXPIRY_DAYS, MAX_API_KEY_NAME_LENGTH, SCOPES
from engine.permissions import INTEGRATION, can_manage_users
from engine.services.identity import IdentityService, hash_token
from engine.storage.tables import MembershipRow, TokenRow, UserRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import ApiKeyView, CreatedApiKeyView, Principal

KEY_PREFIX = "opf_key_"
TOKEN_PREFIX = "opf_"  # every bearer secret: session tokens and API keys
KIND = "api_key"
SYSTEM_GROUP = INTEGRATION
API_KEY_CREATED = "api_key_created"
API_KEY_REVOKED = "api_key_revoked"


@dataclass(frozen=True)
class Credentials:
    """Who a bearer token speaks for, and the scopes it is limited to (None: a session, no limit)."""

    principal: Principal
    scopes: frozenset[str] | None


class ApiKeyService:
    def __init__(self, tx: Transactions, identity: IdentityService) -> None:
        self._tx = tx
        self._identity = identity

    def create(
        self,
        name: str,
        system: str,
        scopes: list[str],
        *,
        principal: Principal,
        expires_in_days: int | None = None,
    ) -> CreatedApiKeyView:
        """A new key for the system account `system` (created in the integration group if missing)."""
        _require_admin(principal)
        scopes = _check(name, scopes, expires_in_days)
        self._identity.create_user(system, [SYSTEM_GROUP], actor=principal.name, exist_ok=True)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)

        def issue(uow: UnitOfWork) -> CreatedApiKeyView:
            session = uow.session
            user = session.exec(select(UserRow).where(UserRow.name == system)).first()
            if user is None:
                raise NotFound(f"user {system} not found")
            groups = session.exec(
                select(MembershipRow.group_id).where(MembershipRow.user_id == user.id)
            ).all()
            if SYSTEM_GROUP not in groups:
                raise InvalidInput(
                    f"{system} is not a system account: API keys are for members of the {SYSTEM_GROUP} group",
                    [Problem(f"{system} is not in the {SYSTEM_GROUP} group", path="system")],
                )
            now = utcnow()
            row = TokenRow(
                id=str(uuid.uuid4()),
                user_id=user.id,
                token_hash=hash_token(secret),
                label=name,
                kind=KIND,
                scopes=scopes,
                created_at=now,
                expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
            )
            session.add(row)
            events.record(
                session,
                API_KEY_CREATED,
                actor=principal.name,
                details={"id": row.id, "name": name, "system": system, "scopes": scopes},
            )
            session.flush()
            return CreatedApiKeyView(**_view(row, system).__dict__, key=secret)

        return self._tx.write(issue)

    def list_keys(self, *, principal: Principal) -> list[ApiKeyView]:
        """Every API key, revoked ones included, oldest first; never a secret."""
        _require_admin(principal)

        def read(uow: UnitOfWork) -> list[ApiKeyView]:
            rows = uow.session.exec(
                select(TokenRow, UserRow.name)
                .join(UserRow, col(UserRow.id) == TokenRow.user_id)
                .where(TokenRow.kind == KIND)
                .order_by(col(TokenRow.created_at), col(TokenRow.id))
            ).all()
            return [_view(row, system) for row, system in rows]

        return self._tx.read(read)

    def revoke(self, key_id: str, *, principal: Principal) -> ApiKeyView:
        """Revoke a key at once (revoking a revoked key changes nothing)."""
        _require_admin(principal)

        def revoke(uow: UnitOfWork) -> ApiKeyView:
            session = uow.session
            row = _find(session, key_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.add(row)
                events.record(session, API_KEY_REVOKED, actor=principal.name, details={"id": key_id})
            system = session.get_one(UserRow, row.user_id).name
            return _view(row, system)

        try:
            return self._tx.write(revoke)
        finally:
            self._identity.forget_principals()  # refused at once by this process

    def authenticate(self, token: str) -> Credentials:
        """The principal of a bearer token (any kind) and, for an API key, its scopes."""
        principal = self._identity.authenticate(token)  # the one place that decides validity
        return Credentials(principal, principal.scopes)

    def authenticate_basic(self, user: str, password: str, *, client: str | None = None) -> Credentials:
        """HTTP Basic: a user's password, or a token or API key as the password of its own user (how
        Camunda clients that only speak Basic carry a key)."""
        if password.startswith(TOKEN_PREFIX):
            principal = self._identity.authenticate(password)
            if principal.name != user:
                raise Unauthenticated(f"this token or API key does not belong to {user}")
            return Credentials(principal, principal.scopes)
        return Credentials(self._identity.authenticate_password(user, password, client=client), None)

    def cached_basic(self, user: str, password: str) -> Credentials | None:
        """`authenticate_basic` from the cache only, without I/O; None: call `authenticate_basic`."""
        if password.startswith(TOKEN_PREFIX):
            found = self.cached(password)
            return found if found is not None and found.principal.name == user else None
        principal = self._identity.cached_password_principal(user, password)
        return None if principal is None else Credentials(principal, None)

    def cached(self, token: str) -> Credentials | None:
        """`authenticate` from the identity service's cache only, without I/O; None: call `authenticate`."""
        principal = self._identity.cached_principal(token)
        return None if principal is None else Credentials(principal, principal.scopes)


def _require_admin(principal: Principal) -> None:
    if not can_manage_users(principal):
        raise Forbidden("only admins manage API keys")


def _check(name: str, scopes: list[str], expires_in_days: int | None) -> list[str]:
    problems = []
    if not name.strip() or len(name) > MAX_API_KEY_NAME_LENGTH:
        problems.append(Problem(f"a key's name is 1-{MAX_API_KEY_NAME_LENGTH} characters", path="name"))
    if not scopes:
        problems.append(Problem("name at least one scope", path="scopes"))
    problems += [
        Problem(f"unknown scope {s!r}; scopes are {', '.join(SCOPES)}", path="scopes")
        for s in scopes
        if s not in SCOPES
    ]
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_API_KEY_EXPIRY_DAYS:
        problems.append(Problem(f"between 1 and {MAX_API_KEY_EXPIRY_DAYS} days", path="expires_in_days"))
    if problems:
        raise InvalidInput("the API key is not valid", problems)
    return sorted(set(scopes))


def _find(session: Session, key_id: str) -> TokenRow:
    row = session.get(TokenRow, key_id)
    if row is None or row.kind != KIND:
        raise NotFound(f"API key {key_id} not found")
    return row


def _view(row: TokenRow, system: str) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        name=row.label,
        system=system,
        scopes=list(row.scopes or []),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
