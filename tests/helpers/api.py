"""A thin HTTP client for tests: each call names the acting user and the status it expects."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


class Api:
    def __init__(
        self, client: TestClient, tokens: dict[str, str], app_factory: Callable[[], FastAPI]
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.app_factory = app_factory

    def reissue_tokens(self, engine: Any) -> None:
        """Fresh tokens, as of the (travelled) clock: a test that travels to the milestones of the
        reference data (a year ahead) would otherwise hold tokens that expired on the way."""
        self.tokens = {name: engine.identity.issue_token(name) for name in self.tokens}

    def restart(self) -> "Api":
        """Stop the app and start a new one on the same database, as a server restart would."""
        self.client.__exit__(None, None, None)
        self.client = TestClient(self.app_factory())
        self.client.__enter__()
        return self

    def call(self, user: str | None, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        response = self.client.request(method, path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response

    def start(
        self,
        user: str,
        variables: dict,
        *,
        business_key: str | None = None,
        process_key: str = "ops_optimization",
        expect: int = 201,
    ) -> dict:
        body = {"process_key": process_key, "variables": variables}
        if business_key:
            body["business_key"] = business_key
        return self.call(user, "POST", "/api/v1/process-instances", expect, json=body)

    def inbox(self, user: str, scope: str = "all", **filters: Any) -> list[dict]:
        return self.call(user, "GET", "/api/v1/tasks", params={"scope": scope, **filters})["items"]

    def task_named(self, user: str, element_id: str, instance_id: str, scope: str = "all") -> dict:
        tasks = [t for t in self.inbox(user, scope, instance=instance_id) if t["element_id"] == element_id]
        if len(tasks) != 1:  # say what the instance holds: a rare miss under full load left no trace
            detail = self.call(user, "GET", f"/api/v1/process-instances/{instance_id}", None)
            raise AssertionError(
                f"{user} should see exactly one {element_id}, sees {tasks}; the instance: {detail}"
            )
        return tasks[0]

    def claim(self, user: str, task_id: str, expect: int = 200) -> dict:
        return self.call(user, "POST", f"/api/v1/tasks/{task_id}/claim", expect)

    def complete(self, user: str, task_id: str, data: dict, expect: int = 200) -> dict:
        return self.call(user, "POST", f"/api/v1/tasks/{task_id}/complete", expect, json={"data": data})

    def instance(self, user: str, instance_id: str, expect: int = 200) -> dict:
        return self.call(user, "GET", f"/api/v1/process-instances/{instance_id}", expect)
