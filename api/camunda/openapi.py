"""The OpenAPI document of /engine-rest, generated from the routes themselves, so that it lists exactly
the operations opsflow implements (tests/camunda/test_openapi.py compares it with the routes).
Security: HTTP Basic and bearer tokens, as get_principal accepts them."""

import copy
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

PATH = "/engine-rest/openapi.json"


_built: dict[int, dict[str, Any]] = {}


def document(routers: list[APIRouter]) -> dict[str, Any]:
    """Built once per set of routers (the routes never change while the process runs)."""
    key = hash(tuple(id(r) for r in routers))
    if key not in _built:
        _built[key] = _document(routers)
    return _built[key]


def _document(routers: list[APIRouter]) -> dict[str, Any]:
    routes = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                shown = copy.copy(route)
                shown.include_in_schema = True
                routes.append(shown)
    doc = get_openapi(
        title="opsflow: Camunda 7 REST subset",
        version="7.23.0",
        description=(
            "The part of Camunda 7's REST API that opsflow implements, under /engine-rest. Errors have "
            "Camunda's shape {type, message, code}. Authenticate with HTTP Basic (user and password, "
            "or a token or API key as the password) or a bearer token."
        ),
        routes=routes,
    )
    doc.setdefault("components", {}).setdefault("securitySchemes", {})["HTTPBasic"] = {
        "type": "http",
        "scheme": "basic",
    }
    return doc
