"""/engine-rest/openapi.json lists exactly the operations /engine-rest implements, and every one of
them is an operation of Camunda 7's own REST API (bench/data/camunda7_operations.txt)."""

from fastapi.routing import APIRoute, iter_route_contexts

from api.camunda.openapi import PATH
from api.main import create_app
from bench.camunda_coverage import camunda_operations, normalize
from engine.config import Settings
from tests.camunda.conftest import REST
from tests.helpers.api import Api


def implemented() -> set[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://"))
    routes = [ctx.original_route for ctx in iter_route_contexts(app.routes)]
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, APIRoute) and route.path.startswith(REST) and route.path != PATH
        for method in route.methods
    }


def test_the_document_lists_exactly_the_routes(rest: Api) -> None:
    response = rest.client.get(PATH)  # public, as Camunda's own document
    assert response.status_code == 200
    document = response.json()
    listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert listed == implemented()
    assert document["components"]["securitySchemes"]["HTTPBasic"] == {"type": "http", "scheme": "basic"}


def test_every_operation_is_one_of_camundas() -> None:
    ours = {normalize(method, path) for method, path in implemented()}
    assert len(camunda_operations()) > 300  # the committed list is Camunda's whole API
    assert ours - camunda_operations() == set()
