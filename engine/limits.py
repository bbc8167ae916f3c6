"""What the engine accepts, stated once: the services check these, and the API states them in its
schema (field lengths, allowed values), so a limit never has to be written twice."""

from engine import events

# API keys (engine.services.api_keys)
#: Every scope an API key can hold, and what it allows. The one list: routes name these (api/deps.py).
SCOPES: dict[str, str] = {
    "messages:send": "send messages to waiting instances, or start processes with them",
    "external-tasks": "fetch, lock, complete and fail external (service) tasks",
    "instances:start": "start process instances",
    "instances:read": "read process instances, their variables and history",
    "tasks:read": "read tasks and inboxes",
    "tasks:work": "claim, assign, save drafts of and complete tasks",
    "webhooks:manage": "create, change, delete and redeliver webhook subscriptions",
    "definitions:deploy": "deploy and validate BPMN and form files",
    "definitions:read": "read process definitions, their BPMN and forms",
}
MAX_API_KEY_NAME_LENGTH = 100  # TokenRow.label
MAX_API_KEY_EXPIRY_DAYS = 3650

# Webhooks (engine.services.webhooks)
#: A subscription to every event type.
ALL_EVENT_TYPES = "*"
MAX_WEBHOOK_URL_LENGTH = 2000
WEBHOOK_SECRET_LENGTHS = (16, 200)  # shortest, longest


def known_event_types() -> list[str]:
    """What a webhook subscription may ask for, besides `*` (everything)."""
    return sorted(set(events.WEBHOOK_TYPES.values()))


# The audit log (engine.services.audit)
MAX_AUDIT_LIMIT = 500
MAX_AUDIT_OFFSET = 2**31 - 1

# Idempotency keys (engine.services.idempotency)
MAX_IDEMPOTENCY_KEY_LENGTH = 200  # IdempotencyRow.key

# Single sign-on (engine.services.sso)
#: Where the identity provider sends the browser back: the engine names it in the authorization
#: request (settings.public_base_url + this path), and the web layer serves it.
SSO_CALLBACK_PATH = "/auth/oidc/callback"
