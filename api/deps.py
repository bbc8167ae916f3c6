"""Request dependencies as Annotated aliases: the engine, and the signed-in principal."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.engine import ProcessEngine
from engine.errors import Unauthenticated
from engine.views import Principal

_bearer = HTTPBearer(
    auto_error=False, description="A token from `opsflow token NAME` or POST /api/v1/session"
)


def get_engine(request: Request) -> ProcessEngine:
    return request.app.state.engine


EngineDep = Annotated[ProcessEngine, Depends(get_engine)]


def get_principal(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated("send Authorization: Bearer <token>")
    return engine.identity.authenticate(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
