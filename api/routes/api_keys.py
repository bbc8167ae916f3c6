"""API keys for connected systems (admins only): create (the secret is shown once), list, revoke."""

from fastapi import APIRouter, Response, status
from pydantic import Field

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Strict
from engine.limits import MAX_API_KEY_EXPIRY_DAYS, MAX_API_KEY_NAME_LENGTH, SCOPES
from engine.views import ApiKeyView, CreatedApiKeyView

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"], route_class=Route)

_SCOPES = "what the key may call: " + "; ".join(f"`{s}` {what}" for s, what in SCOPES.items())


class CreateApiKey(Strict):
    name: str = Field(min_length=1, max_length=MAX_API_KEY_NAME_LENGTH, description="what the key is for")
    system: str = Field(
        min_length=1,
        max_length=64,
        description="the system account's user name; created with the integration role if missing",
    )
    scopes: list[str] = Field(min_length=1, description=_SCOPES)
    expires_in_days: int | None = Field(
        default=None, ge=1, le=MAX_API_KEY_EXPIRY_DAYS, description="never expires when absent"
    )


@router.post("", response_model=CreatedApiKeyView, status_code=status.HTTP_201_CREATED)
def create_api_key(
    body: CreateApiKey, engine: EngineDep, principal: PrincipalDep, response: Response
) -> CreatedApiKeyView:
    """A new key for a system account. The answer holds the key (`opf_key_...`): it is never shown again."""
    response.headers["Cache-Control"] = "no-store"
    return engine.api_keys.create(
        body.name, body.system, body.scopes, principal=principal, expires_in_days=body.expires_in_days
    )


@router.get("", response_model=list[ApiKeyView])
def list_api_keys(engine: EngineDep, principal: PrincipalDep) -> list[ApiKeyView]:
    """Every key with its system, scopes and dates, revoked ones included; never a secret."""
    return engine.api_keys.list_keys(principal=principal)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def revoke_api_key(key_id: str, engine: EngineDep, principal: PrincipalDep) -> None:
    """Revoke a key: it is refused (401) from now on."""
    engine.api_keys.revoke(key_id, principal=principal)
