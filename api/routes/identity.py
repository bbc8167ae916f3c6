"""Sign-in, the current user, and user administration."""

from fastapi import APIRouter, Request, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import CreateUser, SignIn, TokenOut, UpdateUser
from engine.errors import Forbidden
from engine.permissions import can_manage_users
from engine.views import UserView

router = APIRouter(prefix="/api/v1", tags=["identity"], route_class=Route)


@router.post("/session", response_model=TokenOut)
def sign_in(body: SignIn, request: Request, engine: EngineDep) -> TokenOut:
    """Exchange a user name and password for a bearer token. Wrong passwords are throttled per name and
    client address: 429 after five within a quarter of an hour, for that address only."""
    client = request.client.host if request.client else None
    return TokenOut(token=engine.identity.sign_in(body.name, body.password, client=client))


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, engine: EngineDep, _: PrincipalDep) -> None:
    """Revoke the token used for this request."""
    engine.identity.revoke_token(request.headers["authorization"].split(" ", 1)[1].strip())


@router.get("/me", response_model=UserView)
def me(engine: EngineDep, principal: PrincipalDep) -> UserView:
    return engine.identity.get_user(principal.name)


@router.get("/users", response_model=list[UserView])
def list_users(engine: EngineDep, _: PrincipalDep) -> list[UserView]:
    """Every user and their groups (leaders need them to form teams)."""
    return engine.identity.list_users()


@router.post("/users", response_model=UserView, status_code=status.HTTP_201_CREATED)
def create_user(body: CreateUser, engine: EngineDep, principal: PrincipalDep) -> UserView:
    if not can_manage_users(principal):
        raise Forbidden("only admins manage users")
    return engine.identity.create_user(
        body.name, body.groups, display_name=body.display_name, password=body.password, actor=principal.name
    )


@router.get("/users/{name}", response_model=UserView)
def get_user(name: str, engine: EngineDep, _: PrincipalDep) -> UserView:
    return engine.identity.get_user(name)


@router.patch("/users/{name}", response_model=UserView)
def update_user(name: str, body: UpdateUser, engine: EngineDep, principal: PrincipalDep) -> UserView:
    """Rename, reset the password, set the groups, disable or enable a user. A disabled user's tokens are
    revoked and the tasks they had claimed are offered again."""
    if not can_manage_users(principal):
        raise Forbidden("only admins manage users")
    return engine.identity.update_user(name, actor=principal.name, **body.model_dump(exclude_unset=True))
