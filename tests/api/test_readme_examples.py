"""The README's curl example works as written: its bodies start an instance and complete the first task."""

import json
import re

import pytest

from tests.helpers.api import Api

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_the_readme_curl_bodies_start_an_instance_and_complete_its_first_task(api: Api, repo_root) -> None:
    readme = (repo_root / "README.md").read_text()
    bodies = [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", readme, re.S)]
    start, complete = bodies[0], bodies[1]
    instance = api.call("lei", "POST", "/api/v1/process-instances", 201, json=start)
    task = api.task_named("lei", "Task_locate_problem", instance["id"])
    api.claim("lei", task["id"])
    api.call("lei", "POST", f"/api/v1/tasks/{task['id']}/complete", 200, json=complete)
