"""Each server process trusts a token it has just checked for OPSFLOW_AUTH_CACHE_SECONDS. A revocation
through the same process is refused at once; through another process within that time; expiry at once."""

import time
from datetime import timedelta

import pytest
import time_machine

from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from engine.errors import Unauthenticated
from tests.helpers.api import Api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_signed_out_token_is_refused_at_once(api: Api) -> None:
    api.call(
        "ada", "POST", "/api/v1/users", 201, json={"name": "mei", "roles": ["data"], "password": "pw-123456"}
    )
    token = api.call(None, "POST", "/api/v1/session", json={"name": "mei", "password": "pw-123456"})["token"]
    assert api.call(None, "GET", "/api/v1/me", headers=bearer(token))["name"] == "mei"  # now cached
    assert api.client.delete("/api/v1/session", headers=bearer(token)).status_code == 204
    assert api.call(None, "GET", "/api/v1/me", 401, headers=bearer(token))["error"] == "unauthenticated"


def test_a_revoked_api_key_is_refused_at_once_even_by_the_idempotency_check(api: Api) -> None:
    body = {"name": "k", "system": "monitoring", "scopes": ["messages:send"]}
    key = api.call("ada", "POST", "/api/v1/api-keys", 201, json=body)
    message = {"name": "no-such-message"}
    headers = {**bearer(key["key"]), "Idempotency-Key": "k-1"}
    api.call(None, "POST", "/api/v1/messages", 404, json=message, headers=headers)  # cached
    api.call("ada", "DELETE", f"/api/v1/api-keys/{key['id']}", 204)
    headers["Idempotency-Key"] = "k-2"
    assert api.call(None, "POST", "/api/v1/messages", 401, json=message, headers=headers)["error"] == (
        "unauthenticated"
    )


def test_an_expired_token_is_refused_though_it_was_just_checked(api: Api, handbook: ProcessEngine) -> None:
    token = handbook.identity.issue_token("lei")
    api.call(None, "GET", "/api/v1/me", headers=bearer(token))
    with time_machine.travel(timedelta(days=handbook.settings.token_ttl_days, minutes=1), tick=False):
        api.call(None, "GET", "/api/v1/me", 401, headers=bearer(token))


@pytest.mark.parametrize("seconds", [0.0, 0.5])
def test_another_process_refuses_a_revoked_token_within_the_cache_time(
    handbook: ProcessEngine, settings: Settings, seconds: float
) -> None:
    other = build_engine(settings.model_copy(update={"auth_cache_seconds": seconds}))  # another server
    try:
        token = handbook.identity.issue_token("lei")
        assert other.identity.authenticate(token).name == "lei"
        handbook.identity.revoke_token(token)
        revoked_at = time.monotonic()
        if seconds:
            try:
                assert other.identity.authenticate(token).name == "lei"  # still trusted for a moment
            except Unauthenticated:
                assert time.monotonic() - revoked_at >= seconds  # only if this machine was very slow
        time.sleep(seconds)
        with pytest.raises(Unauthenticated):
            other.identity.authenticate(token)
    finally:
        other.close()
