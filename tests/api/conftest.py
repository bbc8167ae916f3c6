import pytest

from tests.helpers.api import Api

OUTSIDERS = {"leader": "lee", "data": "dan"}


@pytest.fixture
def outsiders(api: Api) -> dict[str, str]:
    """Users who hold a role but are on no instance's team: `lee` (leader) and `dan` (data)."""
    for role, name in OUTSIDERS.items():
        api.call(
            "ada",
            "POST",
            "/api/v1/users",
            201,
            json={"name": name, "roles": [role], "password": "s3cret-pass"},
        )
        api.tokens[name] = api.call(
            None, "POST", "/api/v1/session", json={"name": name, "password": "s3cret-pass"}
        )["token"]
    return OUTSIDERS
