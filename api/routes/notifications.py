"""Notifications: channels (admins), the delivery log per channel, a person's own preferences, and
which events a process notifies (designers). Secrets go in and never come back out."""

from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Limit, Offset, Page, Strict
from engine.notifications.channels import ChannelDeliveryView, ChannelView, NotificationView
from engine.notifications.model import EVENT_TYPES, KINDS
from engine.notifications.preferences import PreferenceView, ProcessNotificationView

router = APIRouter(prefix="/api/v1", tags=["notifications"], route_class=Route)

_TYPES = f"what the channel sends: any of {', '.join(EVENT_TYPES)}"
_SETTINGS = (
    "smtp: host, port, security (none | starttls | tls), sender, username. "
    "wecom, dingtalk, feishu: language (zh | en), style (text | markdown; feishu: text | card), "
    "timezone, rate_per_minute (default 20)"
)
_SECRETS = (
    "never shown back. smtp: password. wecom: url (the webhook URL with its key). "
    "dingtalk, feishu: url, secret (the signing secret). In an update, null removes a secret."
)


class CreateChannel(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(description=f"one of {', '.join(KINDS)}")
    settings: dict[str, Any] = Field(default_factory=dict, description=_SETTINGS)
    secrets: dict[str, str | None] = Field(default_factory=dict, description=_SECRETS)
    event_types: list[str] | None = Field(default=None, description=_TYPES + "; all when absent")
    active: bool = True


class UpdateChannel(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    settings: dict[str, Any] | None = Field(default=None, description="merged into the stored settings")
    secrets: dict[str, str | None] | None = Field(default=None, description=_SECRETS)
    event_types: list[str] | None = Field(default=None, description=_TYPES)
    active: bool | None = None


class ChannelDeliveryPage(Page):
    items: list[ChannelDeliveryView]


class NotificationPage(Page):
    items: list[NotificationView]


class UpdatePreferences(Strict):
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, description="zh or en")
    event_types: list[str] | None = Field(default=None, description=_TYPES)
    timezone: str | None = Field(default=None, max_length=64, description="IANA, e.g. Asia/Shanghai")
    quiet_start: str | None = Field(default=None, description="HH:MM; e-mail waits until quiet_end")
    quiet_end: str | None = Field(default=None, description="HH:MM")
    digest: bool | None = Field(default=None, description="one e-mail a day with open and overdue tasks")
    digest_at: str | None = Field(default=None, description="HH:MM, when the digest is sent")


class ProcessNotifications(Strict):
    event_types: list[str] = Field(description=_TYPES + "; [] for none")


@router.post("/notification-channels", response_model=ChannelView, status_code=status.HTTP_201_CREATED)
def create_channel(body: CreateChannel, engine: EngineDep, principal: PrincipalDep) -> ChannelView:
    """An SMTP server or a chat group's robot (WeCom, DingTalk, Feishu)."""
    return engine.notification_channels.create(
        name=body.name,
        kind=body.kind,
        settings=body.settings,
        secrets=body.secrets,
        event_types=body.event_types,
        active=body.active,
        principal=principal,
    )


@router.get("/notification-channels", response_model=list[ChannelView])
def list_channels(engine: EngineDep, principal: PrincipalDep) -> list[ChannelView]:
    return engine.notification_channels.list_channels(principal=principal)


@router.get("/notification-channels/{channel_id}", response_model=ChannelView)
def get_channel(channel_id: str, engine: EngineDep, principal: PrincipalDep) -> ChannelView:
    return engine.notification_channels.get(channel_id, principal=principal)


@router.patch("/notification-channels/{channel_id}", response_model=ChannelView)
def update_channel(
    channel_id: str, body: UpdateChannel, engine: EngineDep, principal: PrincipalDep
) -> ChannelView:
    return engine.notification_channels.update(
        channel_id,
        principal=principal,
        name=body.name,
        settings=body.settings,
        secrets=body.secrets,
        event_types=body.event_types,
        active=body.active,
    )


@router.delete(
    "/notification-channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_channel(channel_id: str, engine: EngineDep, principal: PrincipalDep) -> None:
    engine.notification_channels.delete(channel_id, principal=principal)


@router.get("/notification-channels/{channel_id}/deliveries", response_model=ChannelDeliveryPage)
def channel_deliveries(
    channel_id: str, engine: EngineDep, principal: PrincipalDep, offset: Offset = 0, limit: Limit = 50
) -> ChannelDeliveryPage:
    """The channel's delivery log: each e-mail or chat message sent, newest first."""
    page = engine.notification_channels.deliveries(
        channel_id, principal=principal, offset=offset, limit=limit
    )
    return ChannelDeliveryPage(**page.__dict__)


@router.get("/notification-channels/{channel_id}/notifications", response_model=NotificationPage)
def channel_notifications(
    channel_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    status: str | None = Query(default=None, description="queued, sending, sent, failed or dropped"),
    offset: Offset = 0,
    limit: Limit = 50,
) -> NotificationPage:
    page = engine.notification_channels.notifications(
        channel_id, principal=principal, status=status, offset=offset, limit=limit
    )
    return NotificationPage(**page.__dict__)


@router.get("/notification-preferences/me", response_model=PreferenceView)
def my_preferences(engine: EngineDep, principal: PrincipalDep) -> PreferenceView:
    return engine.notification_preferences.mine(principal=principal)


@router.patch("/notification-preferences/me", response_model=PreferenceView)
def update_my_preferences(
    body: UpdatePreferences, engine: EngineDep, principal: PrincipalDep
) -> PreferenceView:
    """Change the fields given (null clears the e-mail address or the quiet hours)."""
    return engine.notification_preferences.set_mine(
        principal=principal, **body.model_dump(exclude_unset=True)
    )


@router.get("/process-notifications/{process_key}", response_model=ProcessNotificationView)
def process_notifications(
    process_key: str, engine: EngineDep, principal: PrincipalDep
) -> ProcessNotificationView:
    return engine.notification_preferences.process_settings(process_key, principal=principal)


@router.put("/process-notifications/{process_key}", response_model=ProcessNotificationView)
def set_process_notifications(
    process_key: str, body: ProcessNotifications, engine: EngineDep, principal: PrincipalDep
) -> ProcessNotificationView:
    """Which events of this process notify anyone (designers and admins)."""
    return engine.notification_preferences.set_process_settings(
        process_key, body.event_types, principal=principal
    )
