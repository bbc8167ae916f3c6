"""Each step's answers in variables of its own: the deploy check that two steps' forms do not bind the
same process variable, unless the process declares it shared.

Process data is one flat namespace (as in Camunda): a form's keys are process variables, and a task opens
with the values they hold. Two forms binding one key means the later answer replaces the earlier one and
each task opens with the other's (a roll-out opening with the pilot's scope). Variables several steps are
meant to use (the goal set at kick-off and measured against later, the team) are declared on the process
(catalog.SHARED_VARIABLES_PROPERTY). A form key that is one of its task's input parameters is the task's
own local variable (what Camunda does with a reusable form); its output parameters are what it writes."""

from collections.abc import Callable
from typing import Any

from engine.bpmn.catalog import SHARED_VARIABLES_PROPERTY
from engine.errors import Problem

#: Elements whose form a person fills in.
_FORM_STEPS = ("userTask", "startEvent")


def overlap_warnings(
    process_id: str,
    resource_name: str,
    catalog: dict[str, dict[str, Any]],
    shared: tuple[str, ...],
    variables_of: Callable[[dict[str, Any]], list[str] | None],
) -> list[Problem]:
    """One warning per variable that the forms of two or more steps of the process bind, located at the
    second of them (the one that would open with the first one's answer). `variables_of(entry)` gives the
    variables a step's form binds (None: its form is unknown, reported elsewhere)."""
    steps: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for element_id, entry in sorted(catalog.items(), key=lambda item: item[1].get("line") or 0):
        if entry.get("process_id") != process_id or entry.get("type") not in _FORM_STEPS:
            continue
        bound = variables_of(entry) if entry.get("form_key") else None
        if bound is None:
            continue
        io = entry.get("io") or {}
        written = [v for v in bound if v not in io.get("inputs", ())] + list(io.get("outputs", ()))
        for variable in dict.fromkeys(written):
            if variable not in shared:
                steps.setdefault(variable, []).append((element_id, entry))
    return [_warning(variable, found, resource_name) for variable, found in steps.items() if len(found) > 1]


def _warning(variable: str, found: list[tuple[str, dict[str, Any]]], resource_name: str) -> Problem:
    named = [f"{element_id} (form {entry['form_key']})" for element_id, entry in found]
    listed = ", ".join(named[:-1]) + " and " + named[-1]
    element_id, entry = found[1]
    quantifier = "both" if len(found) == 2 else "all"
    return Problem(
        f"the forms of {listed} {quantifier} bind the variable '{variable}': a later answer replaces "
        "an earlier one and each of these tasks opens with another's answer. Give each form its own key, "
        f"or declare '{variable}' shared on the process (extension property {SHARED_VARIABLES_PROPERTY})",
        file=resource_name,
        line=entry.get("line"),
        element_id=element_id,
    )
