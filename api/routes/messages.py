"""Messages from other systems: approvals answering, monitoring starting instances."""

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Strict
from engine.views import MessageCorrelationView

router = APIRouter(prefix="/api/v1/messages", tags=["messages"], route_class=Route)


class SendMessage(Strict):
    name: str = Field(min_length=1, max_length=200, description="the BPMN message name")
    business_key: str | None = Field(default=None, max_length=200)
    instance_id: str | None = Field(
        default=None, max_length=64, description="the instance it answers (the approval request names it)"
    )
    correlation_keys: dict[str, Any] = Field(
        default_factory=dict, description="process variables that must match"
    )
    payload: dict[str, Any] = Field(default_factory=dict, description="becomes process data")


@router.post("", response_model=MessageCorrelationView)
def send_message(body: SendMessage, engine: EngineDep, principal: PrincipalDep) -> MessageCorrelationView:
    """Resumes the one instance waiting for the message, or starts the process that starts with it.
    404 when nothing matches, 409 when several instances or processes would."""
    return engine.runtime.correlate_message(
        body.name,
        principal=principal,
        business_key=body.business_key,
        correlation_keys=body.correlation_keys,
        payload=body.payload,
        instance_id=body.instance_id,
    )
