"""Declared types live in the instance data beside the values (engine/variable_types.py): they survive
every command that changes the data, stay out of what scripts, forms and the native API see, and go
when their variable goes. Both databases."""

from engine import variable_types
from engine.engine import ProcessEngine
from engine.views import Principal
from tests.camunda.conftest import REST, approve, start, typed
from tests.helpers.api import Api

LEADER = Principal("lei-id", "lei", frozenset({"leader"}))


def test_types_survive_completing_tasks_and_stay_out_of_the_native_api(
    rest: Api, engine: ProcessEngine
) -> None:
    started = start(rest)
    url = f"{REST}/process-instance/{started['id']}/variables"
    rest.call("lei", "POST", url, 204, json={"modifications": {"ref": typed(7, "Long")}})
    approve(rest, started["id"])  # a form-validated completion in between
    assert rest.call("lei", "GET", f"{url}/ref") == {"type": "Long", "value": 7, "valueInfo": {}}
    native = rest.call("lei", "GET", f"/api/v1/process-instances/{started['id']}")
    assert not [k for k in native["instance"]["variables"] if variable_types.is_type_key(k)]
    assert native["instance"]["variables"]["ref"] == 7


def test_deleting_a_variable_forgets_its_type_and_untyped_values_are_inferred(
    rest: Api, engine: ProcessEngine
) -> None:
    started = start(rest)
    engine.runtime.set_variables(
        started["id"],
        variable_types.join({"when": "2024-01-01"}, {"when": {"type": "Date", "valueInfo": {}}}),
        principal=LEADER,
    )
    engine.runtime.set_variables(started["id"], {}, ["when"], principal=LEADER)
    engine.runtime.set_variables(started["id"], {"when": "later"}, principal=LEADER)
    assert rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/variables/when") == {
        "type": "String",
        "value": "later",
        "valueInfo": {},
    }
    reserved = rest.call(
        "lei",
        "POST",
        f"{REST}/process-instance/{started['id']}/variables",
        400,
        json={"modifications": {"camunda:type:x": typed(1)}},
    )
    assert "reserved" in reserved["message"]
