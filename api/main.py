"""The FastAPI application: builds the engine at start-up and mounts the routers."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig

from api import camunda, errors, limits
from api.idempotency import IdempotencyMiddleware
from api.routes import (
    analytics,
    api_keys,
    audit,
    decisions,
    definitions,
    documents,
    groups,
    identity,
    instances,
    messages,
    migrations,
    notifications,
    tasks,
    webhooks,
)
from api.routing import PrefixRouter, Route, under_its_prefix
from api.security_headers import SecurityHeaders
from api.web import routes as web
from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from engine.types import JsonObject

#: FastAPI's native OpenTelemetry looks for providers on every request (about 5 us each time). opsflow
#: configures none, so it is on only where OpenTelemetry is set up through its OTEL_* variables.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def telemetry() -> TelemetryConfig | None:
    return None if any(name.startswith("OTEL_") for name in os.environ) else TELEMETRY_OFF


def _operation_id(route: APIRoute) -> str:
    return f"{str(route.tags[0]).replace(' ', '_')}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None, engine: ProcessEngine | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = engine or build_engine(settings)
        worker = app.state.engine.worker().start() if settings.run_worker else None
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if own:
                app.state.engine.close()

    app = FastAPI(
        title="opsflow",
        version="0.1.0",
        docs_url=None,  # served by api.web from node_modules (FastAPI's own loads it from a CDN)
        redoc_url=None,
        description="Runs the operations handbook as executable BPMN: inboxes, forms, deployments.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        responses=errors.ERROR_RESPONSES,
        telemetry=telemetry(),
    )
    app.router.route_class = Route  # for /health (api.routing: one thread hand-off per request)
    errors.install(app)
    camunda.install(app)  # after errors: /engine-rest keeps Camunda's error shape
    app.add_middleware(IdempotencyMiddleware)  # inside the limits: oversized bodies never reach it
    limits.install(app, settings)
    # outermost: refusals carry the headers too. /docs (Swagger UI, api.web) is started by an inline script
    app.add_middleware(SecurityHeaders, without_csp=("/docs",))

    @app.get("/health", tags=["health"])
    def health() -> JsonObject:
        """Liveness and database check; needs no token."""
        app.state.engine.health()
        return {"status": "ok"}

    routers = (
        tasks,
        instances,
        migrations,
        analytics,
        documents,
        definitions,
        messages,
        identity,
        groups,
        webhooks,
        audit,
        api_keys,
    )
    # Each router under its path, and /api/v1 apart from /engine-rest (api.routing.PrefixRouter): a
    # request is matched against the routes of its own part only.
    native = PrefixRouter(under="/api/v1")
    for module in (*routers, notifications, decisions):
        native.include_router(under_its_prefix(module.router))
    app.include_router(native)
    app.include_router(camunda.router)  # Camunda 7 REST subset at /engine-rest
    web.install(app)
    return app
