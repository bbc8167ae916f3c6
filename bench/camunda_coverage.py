"""How much of Camunda 7's REST API opsflow implements: the operations (method and path) of Camunda's
own OpenAPI document (bench/data/camunda7_operations.txt, listed from camunda-bpm-platform's
engine-rest/engine-rest-openapi templates) compared with the operations of /engine-rest/openapi.json.
Path parameters are compared by position, not by name ({id} and {task_id} are the same).

    .venv/bin/python -m bench.camunda_coverage [--list]
"""

import re
import sys
from pathlib import Path

OPERATIONS = Path(__file__).parent / "data" / "camunda7_operations.txt"
PREFIX = "/engine-rest"


def normalize(method: str, path: str) -> tuple[str, str]:
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path.removeprefix(PREFIX) or "/")


def camunda_operations() -> set[tuple[str, str]]:
    lines = [line.split() for line in OPERATIONS.read_text().splitlines() if line.strip()]
    return {normalize(method, path) for method, path in lines}


def opsflow_operations() -> set[tuple[str, str]]:
    from api.camunda import ROUTERS
    from api.camunda.openapi import document

    doc = document(ROUTERS)
    return {normalize(method, path) for path, item in doc["paths"].items() for method in item}


def main() -> None:
    camunda, ours = camunda_operations(), opsflow_operations()
    covered = camunda & ours
    share = len(covered) / len(camunda)
    print(f"Camunda 7 REST operations implemented: {len(covered)} of {len(camunda)} ({share:.0%})")
    extra = sorted(ours - camunda)
    if extra:
        print(f"opsflow operations not in Camunda's document: {', '.join(f'{m} {p}' for m, p in extra)}")
    if "--list" in sys.argv:
        for method, path in sorted(covered, key=lambda o: (o[1], o[0])):
            print(f"  {method:6} {path}")


if __name__ == "__main__":
    main()
