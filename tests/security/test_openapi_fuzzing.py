"""Schemathesis against our own /openapi.json, in process: for every operation, inputs generated from the
schema (with random ids, and with the ids of real instances, tasks and definitions) and inputs that break
it, sent as an admin.
No answer may be a 5xx, every answer must match what the schema documents for its status, and every
error must be in the API's one error shape. Deterministic (derandomized, no deadline): 25 examples of
valid input and 10 of invalid input per operation.

What it found is pinned by the tests at the end.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from api.main import create_app
from engine.config import Settings
from tests.security.conftest import World

EXAMPLES = 25
NEGATIVE_EXAMPLES = 10  # invalid inputs mostly meet the same validation: fewer suffice
DB_INTEGER_MAX = 2**31 - 1


def _destroys(operation: str) -> bool:
    return operation.startswith("DELETE ") or operation.endswith("/cancel")


SPEC = create_app(Settings(database_url="sqlite://")).openapi()["paths"]
# operations that delete or cancel the real things come last, so that the others still find them
OPERATIONS = sorted(
    (f"{method.upper()} {path}" for path, methods in SPEC.items() for method in methods),
    key=lambda operation: (_destroys(operation), operation),
)


def _takes_input(operation: str) -> bool:
    """Whether any input of the operation could be invalid (parameters or a body)."""
    method, path = operation.split(" ", 1)
    spec = SPEC[path][method.lower()]
    return bool(spec.get("parameters") or spec.get("requestBody"))


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx answer is `{"error", "message", "problems"}` (api/errors.py)."""
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and body.keys() == {"error", "message", "problems"}, body
    return None


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, error_shape]


@pytest.fixture(scope="module")
def fuzzing(world: World) -> dict[str, Any]:
    """The schema as the app serves it, and real ids to put into paths."""
    api = world.api
    webhook = api.call(
        "ada",
        "POST",
        "/api/v1/webhooks",
        201,
        json={"url": "https://hooks.example/fuzz", "event_types": ["*"]},
    )
    key = api.call(
        "ada",
        "POST",
        "/api/v1/api-keys",
        201,
        json={"name": "fuzz", "system": "ivan", "scopes": ["tasks:read"]},
    )
    team = world.teams["own"]
    real = {
        "task_id": team.task_id,
        "instance_id": team.instance_id,
        "webhook_id": webhook["id"],
        "key_id": key["id"],
        "key": "ops_optimization",
    }
    return {"schema": schemathesis.openapi.from_asgi("/openapi.json", api.client.app), "real": real}


RUNS = [
    (operation, mode)
    for operation in OPERATIONS
    for mode in ("random ids", "real ids", "negative")
    if mode != "real ids" or "{" in operation  # real ids only where the path has some
    if mode != "negative" or _takes_input(operation)
]


@pytest.mark.parametrize(("operation", "mode"), RUNS, ids=[f"{op}-{mode}" for op, mode in RUNS])
def test_generated_requests_get_documented_answers_and_never_a_server_error(
    world: World, fuzzing: dict[str, Any], operation: str, mode: str
) -> None:
    method, path = operation.split(" ", 1)
    op = fuzzing["schema"][path][method]
    real = {name: value for name, value in fuzzing["real"].items() if "{" + name + "}" in path}
    if path.startswith("/api/v1/forms/"):
        real["key"] = "collect_data"
    strategy = op.as_strategy(
        GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE,
        path_parameters=real if mode == "real ids" else None,
    )

    @settings(
        max_examples=NEGATIVE_EXAMPLES if mode == "negative" else EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        token = world.api.tokens["ada"]
        if operation == "DELETE /api/v1/session":  # signing out revokes the token it is sent with
            token = world.engine.identity.issue_token("ada")
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    check()


# --- what the fuzzing found once, pinned -----------------------------------------------------

TOO_BIG = 2**63


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/tasks?offset={TOO_BIG}",
        f"/api/v1/process-instances?offset={TOO_BIG}",
        f"/api/v1/process-definitions/ops_optimization/xml?version={TOO_BIG}",
        f"/api/v1/forms/collect_data?version={TOO_BIG}",
        f"/api/v1/forms/collect_data?version={-TOO_BIG}",
        f"/api/v1/webhooks/{{webhook}}/deliveries?offset={TOO_BIG}",
    ],
)
def test_an_integer_beyond_the_database_range_is_refused_with_422(
    world: World, fuzzing: dict[str, Any], path: str
) -> None:
    path = path.replace("{webhook}", fuzzing["real"]["webhook_id"])
    response = world.api.client.get(path, headers={"Authorization": f"Bearer {world.api.tokens['ada']}"})
    assert response.status_code == 422, response.text
