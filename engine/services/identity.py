"""Users, roles and bearer tokens (stored as SHA-256 hashes: tokens are random, so a fast hash suffices).

Every authenticated request needs its token's principal, so each process keeps the principals of the
tokens it has just seen for `principal_cache_seconds` (OPSFLOW_AUTH_CACHE_SECONDS, default 1 s; 0 turns the
cache off). A token revoked through this process (sign-out, API key revocation) is refused at once; one
revoked through another server process is refused there within that time. Expiry is checked on every
request. Anything that changes which tokens are valid or which roles a user holds must call
`forget_principals()` after it commits.
"""

import hashlib
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlmodel import Session, select

from engine import events, signin_throttle
from engine.config import ROLES
from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.storage.tables import TokenRow, UserRoleRow, UserRow, utcnow
from engine.storage.uow import Transactions
from engine.views import Principal, UserView

_hasher = PasswordHasher()

_TOKEN, _USER, _ROLE = TokenRow.__table__, UserRow.__table__, UserRoleRow.__table__
# Every authenticated request runs this: one Core statement (built once, its compiled form cached) on a
# bare connection, no ORM session. One row per role of the token's user (one row with role NULL if none).
_AUTHENTICATE = (
    sa.select(
        _TOKEN.c.user_id,
        _TOKEN.c.kind,
        _TOKEN.c.scopes,
        _TOKEN.c.expires_at,
        _TOKEN.c.revoked_at,
        _USER.c.name,
        _ROLE.c.role,
    )
    .select_from(
        _TOKEN.join(_USER, _USER.c.id == _TOKEN.c.user_id).outerjoin(_ROLE, _ROLE.c.user_id == _USER.c.id)
    )
    .where(_TOKEN.c.token_hash == sa.bindparam("token_hash"))
)
# A user and their roles in one statement (GET /api/v1/me).
_USER_WITH_ROLES = (
    sa.select(_USER.c.name, _USER.c.display_name, _ROLE.c.role)
    .select_from(_USER.outerjoin(_ROLE, _ROLE.c.user_id == _USER.c.id))
    .where(_USER.c.name == sa.bindparam("name"))
    .order_by(_ROLE.c.role)
)


#: Cached principals per process at most (valid tokens only; past this the cache starts afresh).
MAX_CACHED_PRINCIPALS = 10_000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(
        self, tx: Transactions, token_ttl_days: int, *, principal_cache_seconds: float = 1.0
    ) -> None:
        self._tx = tx
        self._ttl = timedelta(days=token_ttl_days)
        self._cache_seconds = principal_cache_seconds
        # token hash -> (principal, token expiry, monotonic time until which the entry is trusted)
        self._principals: dict[str, tuple[Principal, datetime | None, float]] = {}
        self._forgotten = 0  # counts forget_principals(): a lookup that overlapped one is not cached
        self._lock = threading.Lock()

    def create_user(
        self,
        name: str,
        roles: list[str],
        *,
        display_name: str = "",
        password: str | None = None,
        actor: str | None = None,
        exist_ok: bool = False,
    ) -> UserView:
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise InvalidInput(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
        if (
            not name
            or len(name) > 64
            or not name.replace("_", "").replace("-", "").replace(".", "").isalnum()
        ):
            raise InvalidInput("a user name is 1-64 letters, digits, '.', '_' or '-'")

        def create(uow) -> UserView:
            session = uow.session
            existing = _user_by_name(session, name)
            if existing is not None:
                if not exist_ok:
                    raise Conflict(f"user {name} already exists")
                return _view(session, existing)
            user = UserRow(
                id=str(uuid.uuid4()),
                name=name,
                display_name=display_name or name,
                created_at=utcnow(),
                password_hash=_hasher.hash(password) if password else None,
            )
            session.add(user)
            session.flush()
            session.add_all(UserRoleRow(user_id=user.id, role=r) for r in sorted(set(roles)))
            events.record(session, events.USER_CREATED, actor=actor, details={"user": name, "roles": roles})
            session.flush()
            return _view(session, user)

        return self._tx.write(create)

    def issue_token(self, name: str, *, label: str = "") -> str:
        token = "opf_" + secrets.token_urlsafe(32)

        def issue(uow) -> None:
            user = _user_by_name(uow.session, name)
            if user is None:
                raise NotFound(f"user {name} not found")
            uow.session.add(
                TokenRow(
                    id=str(uuid.uuid4()),
                    user_id=user.id,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=utcnow(),
                    expires_at=utcnow() + self._ttl,
                )
            )

        self._tx.write(issue)
        return token

    def sign_in(self, name: str, password: str, *, client: str | None = None) -> str:
        """A token for the right password. Wrong ones are throttled per name and client address
        (engine/signin_throttle.py), so that nobody can lock the owner of a name out."""

        def check(uow) -> bool:
            session = uow.session
            signin_throttle.refuse_if_throttled(session, name, client)
            user = _user_by_name(session, name)
            try:
                ok = bool(user and user.password_hash and _hasher.verify(user.password_hash, password))
            except VerifyMismatchError:
                ok = False
            if not ok:
                signin_throttle.record_failure(session, name, client)
            return ok

        if not self._tx.write(check):  # the failure is committed before the answer
            raise Unauthenticated("wrong user name or password")
        return self.issue_token(name, label="sign-in")

    def authenticate(self, token: str) -> Principal:
        token_hash = hash_token(token)
        cached = self._cached(token_hash)
        if cached is not None:
            return cached
        forgotten = self._forgotten
        with self._tx.engine.connect() as conn:
            rows = conn.execute(_AUTHENTICATE, {"token_hash": token_hash}).all()
        if not rows:
            raise Unauthenticated("invalid or expired token")
        user_id, kind, scopes, expires_at, revoked_at, name, _ = rows[0]
        if revoked_at is not None or (expires_at is not None and expires_at < utcnow()):
            raise Unauthenticated("invalid or expired token")
        principal = Principal(
            user_id,
            name,
            frozenset(row.role for row in rows if row.role),
            frozenset(scopes) if kind == "api_key" and scopes is not None else None,
        )
        if self._cache_seconds > 0:
            with self._lock:
                if forgotten == self._forgotten:  # else a revocation may have committed after our read
                    if len(self._principals) >= MAX_CACHED_PRINCIPALS:
                        self._principals.clear()
                    fresh_until = time.monotonic() + self._cache_seconds
                    self._principals[token_hash] = (principal, expires_at, fresh_until)
        return principal

    def cached_principal(self, token: str) -> Principal | None:
        """The principal of a token authenticated moments ago, without touching the database (None: call
        `authenticate`). Lets the HTTP layer skip a thread hand-off for most requests."""
        return self._cached(hash_token(token))

    def _cached(self, token_hash: str) -> Principal | None:
        entry = self._principals.get(token_hash)
        if entry is None:
            return None
        principal, expires_at, fresh_until = entry
        if time.monotonic() >= fresh_until or (expires_at is not None and expires_at < utcnow()):
            return None
        return principal

    def forget_principals(self) -> None:
        """Drop every cached principal: call it after committing a change to tokens or to users' roles.
        (Revocations are rare, so forgetting all of them keeps this simple.)"""
        with self._lock:
            self._forgotten += 1
            self._principals.clear()

    def revoke_token(self, token: str) -> None:
        def revoke(uow) -> None:
            row = uow.session.exec(select(TokenRow).where(TokenRow.token_hash == hash_token(token))).first()
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                uow.session.add(row)

        try:
            self._tx.write(revoke)
        finally:
            self.forget_principals()  # refused at once by this process (forgetting too much is harmless)

    def get_user(self, name: str) -> UserView:
        with self._tx.engine.connect() as conn:
            rows = conn.execute(_USER_WITH_ROLES, {"name": name}).all()
        if not rows:
            raise NotFound(f"user {name} not found")
        return UserView(rows[0].name, rows[0].display_name, [row.role for row in rows if row.role])

    def list_users(self) -> list[UserView]:
        def list_all(uow) -> list[UserView]:
            users = uow.session.exec(select(UserRow).order_by(UserRow.name)).all()
            return [_view(uow.session, u) for u in users]

        return self._tx.read(list_all)


def users_with_roles(session: Session, names: set[str]) -> dict[str, set[str]]:
    """name -> roles, for the given names that exist."""
    rows = session.exec(
        select(UserRow.name, UserRoleRow.role)
        .join(UserRoleRow, UserRoleRow.user_id == UserRow.id, isouter=True)
        .where(UserRow.name.in_(names))
    ).all()
    found: dict[str, set[str]] = {}
    for name, role in rows:
        found.setdefault(name, set()).update({role} if role else set())
    return found


def _user_by_name(session: Session, name: str) -> UserRow | None:
    return session.exec(select(UserRow).where(UserRow.name == name)).first()


def _roles(session: Session, user_id: str) -> list[str]:
    return sorted(session.exec(select(UserRoleRow.role).where(UserRoleRow.user_id == user_id)).all())


def _view(session: Session, user: UserRow) -> UserView:
    return UserView(user.name, user.display_name, _roles(session, user.id))
