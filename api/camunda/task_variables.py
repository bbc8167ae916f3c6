"""/engine-rest/task/{id}/variables and /localVariables: the process variables seen from a task, and
changing them through it (whoever may complete the task may; unvalidated, as in Camunda).

opsflow has no task-local scope: a user task works on its instance's variables, so `localVariables`
reads as empty, and setting local variables is a 400 that says so.
"""

from typing import Any

from fastapi import Response

from api.camunda.dto import PatchVariablesDto, VariableValueDto, VariableValueOutDto
from api.camunda.errors import camunda_router, invalid
from api.camunda.variables import binary_content, from_camunda, to_camunda_map, typed_value
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import NotFound
from engine.views import InstanceView, Principal

router = camunda_router("/task", "task")


@router.get("/{task_id}/variables", response_model=dict[str, VariableValueOutDto])
def get_variables(task_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    instance = _instance(engine, principal, task_id)
    return to_camunda_map(instance.variables, types=instance.variable_types)


@router.post("/{task_id}/variables", status_code=204, response_class=Response)
def modify_variables(
    task_id: str, body: PatchVariablesDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Sets `modifications` and removes `deletions`, in one change of the instance."""
    _instance(engine, principal, task_id)
    modifications = from_camunda(body.modifications)
    engine.tasks.set_variables(task_id, modifications, body.deletions or [], principal=principal)
    return Response(status_code=204)


@router.get("/{task_id}/variables/{name}", response_model=VariableValueOutDto)
def get_variable(task_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    instance = _instance(engine, principal, task_id)
    if name not in instance.variables:
        raise invalid(f"task variable with name {name} does not exist", status=404)
    return typed_value(instance.variables[name], instance.variable_types.get(name))


@router.get("/{task_id}/variables/{name}/data", response_class=Response)
def get_variable_data(task_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    instance = _instance(engine, principal, task_id)
    if name not in instance.variables:
        raise invalid(f"task variable with name {name} does not exist", status=404)
    content = binary_content(instance.variables[name], instance.variable_types.get(name))
    if content is None:
        raise invalid(f"Value of variable with id {name} is not a binary value.")
    return Response(content[0], media_type=content[1])


@router.put("/{task_id}/variables/{name}", status_code=204, response_class=Response)
def put_variable(
    task_id: str, name: str, body: VariableValueDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    _instance(engine, principal, task_id)
    engine.tasks.set_variables(task_id, from_camunda({name: body}), principal=principal)
    return Response(status_code=204)


@router.delete("/{task_id}/variables/{name}", status_code=204, response_class=Response)
def delete_variable(task_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    _instance(engine, principal, task_id)
    engine.tasks.set_variables(task_id, {}, [name], principal=principal)
    return Response(status_code=204)


@router.get("/{task_id}/localVariables", response_model=dict[str, VariableValueOutDto])
def get_local_variables(task_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    """Always empty: a task has no variables of its own in opsflow."""
    _instance(engine, principal, task_id)
    return {}


@router.post("/{task_id}/localVariables", status_code=204, response_class=Response)
def modify_local_variables(
    task_id: str, body: PatchVariablesDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    _instance(engine, principal, task_id)
    if body.modifications or body.deletions:
        raise invalid(
            "Task-local variables are not supported by opsflow: a task works on its process instance's "
            "variables (POST /task/{id}/variables)"
        )
    return Response(status_code=204)


def _instance(engine: ProcessEngine, principal: Principal, task_id: str) -> InstanceView:
    try:
        return engine.tasks.get_task(task_id, principal=principal).instance
    except NotFound:
        raise invalid(f"No matching task with id {task_id}", status=404) from None
