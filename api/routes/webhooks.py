"""Webhook subscriptions, their delivery log, and redelivery (admins only).

Deliveries are signed: see `engine.jobs.webhooks` for the headers and the signed string."""

from fastapi import APIRouter, Response, status
from pydantic import Field

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Limit, Offset, Page, Strict
from engine.limits import MAX_WEBHOOK_URL_LENGTH, WEBHOOK_SECRET_LENGTHS
from engine.views import CreatedWebhookView, DeliveryView, RedeliveryView, WebhookView

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=Route)

_TYPES = 'webhook event types such as task.created or instance.completed; ["*"] for all'


class CreateWebhook(Strict):
    url: str = Field(
        min_length=1, max_length=MAX_WEBHOOK_URL_LENGTH, description="an http:// or https:// URL"
    )
    event_types: list[str] = Field(min_length=1, description=_TYPES)
    secret: str | None = Field(
        default=None,
        min_length=WEBHOOK_SECRET_LENGTHS[0],
        max_length=WEBHOOK_SECRET_LENGTHS[1],
        description="signs the deliveries; generated when absent. Returned once, in this answer only.",
    )


class UpdateWebhook(Strict):
    url: str | None = Field(default=None, min_length=1, max_length=MAX_WEBHOOK_URL_LENGTH)
    event_types: list[str] | None = Field(default=None, min_length=1, description=_TYPES)
    active: bool | None = None


class DeliveryPage(Page):
    items: list[DeliveryView]


@router.post("", response_model=CreatedWebhookView, status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: CreateWebhook, engine: EngineDep, principal: PrincipalDep, response: Response
) -> CreatedWebhookView:
    """Subscribe a URL to event types. The answer holds the signing secret; it is never shown again."""
    response.headers["Cache-Control"] = "no-store"  # nor kept for Idempotency-Key replays
    return engine.webhooks.create(body.url, body.event_types, principal=principal, secret=body.secret)


@router.get("", response_model=list[WebhookView])
def list_webhooks(engine: EngineDep, principal: PrincipalDep) -> list[WebhookView]:
    return engine.webhooks.list_webhooks(principal=principal)


@router.get("/{webhook_id}", response_model=WebhookView)
def get_webhook(webhook_id: str, engine: EngineDep, principal: PrincipalDep) -> WebhookView:
    return engine.webhooks.get(webhook_id, principal=principal)


@router.patch("/{webhook_id}", response_model=WebhookView)
def update_webhook(
    webhook_id: str, body: UpdateWebhook, engine: EngineDep, principal: PrincipalDep
) -> WebhookView:
    """Change the URL, the event types, or switch deliveries off (`active: false`) and on."""
    return engine.webhooks.update(
        webhook_id, principal=principal, url=body.url, event_types=body.event_types, active=body.active
    )


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_webhook(webhook_id: str, engine: EngineDep, principal: PrincipalDep) -> None:
    """Remove the subscription with its delivery log; queued deliveries are dropped."""
    engine.webhooks.delete(webhook_id, principal=principal)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    webhook_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    event_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DeliveryPage:
    """The delivery log, newest attempt first: one entry per attempt with its status code or error."""
    page = engine.webhooks.deliveries(
        webhook_id, principal=principal, event_id=event_id, offset=offset, limit=limit
    )
    return DeliveryPage(items=page.items, total=page.total, offset=page.offset, limit=page.limit)


@router.post(
    "/{webhook_id}/deliveries/{event_id}/redeliver",
    response_model=RedeliveryView,
    status_code=status.HTTP_202_ACCEPTED,
)
def redeliver(webhook_id: str, event_id: str, engine: EngineDep, principal: PrincipalDep) -> RedeliveryView:
    """Send the event again, with the same event id (X-Opsflow-Delivery), as soon as a worker runs.
    404 when the event was never sent to this webhook, 409 when the webhook is inactive."""
    return engine.webhooks.redeliver(webhook_id, event_id, principal=principal)
