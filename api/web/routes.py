"""The browser pages: HTML shells rendered with Jinja2, whose own small scripts call the JSON API
(/api/v1) with the bearer token kept in sessionStorage. Also the live-update stream (server-sent events)
and the static files: ours from api/web/static, the bpmn.io libraries from node_modules (npm ci).

Live updates: EventSource cannot send an Authorization header, so after sign-in the page hands its
token to POST /web/session, which sets it as an HttpOnly, SameSite=Strict cookie whose path is only
/web/events (so no other request carries it and no script can read it). The cookie is named after the
user (`opsflow_sse_<name>`), so two tabs signed in as different people each get their own stream.
The stream polls the audit table (every 0.5 s), so any number of server processes can share a database.
"""

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Header, Request, Response, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.web import admin, sso
from engine.errors import Unauthenticated
from engine.views import AuditEntry

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent.parent / "node_modules"

#: URL prefix -> folder inside node_modules: only what the pages load.
VENDOR = {
    "bpmn-js": "bpmn-js/dist",
    "form-js": "@bpmn-io/form-js/dist",
    "bpmn-js-properties-panel": "bpmn-js-properties-panel/dist",
    "properties-panel": "@bpmn-io/properties-panel/dist",
    "camunda-bpmn-moddle": "camunda-bpmn-moddle/resources",
    "swagger-ui": "swagger-ui-dist",
    "dmn-js": "dmn-js/dist",
    "echarts": "echarts/dist",
}

SSE_COOKIE = "opsflow_sse_"
SSE_PATH = "/web/events"
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 60.0  # then the browser reconnects (Last-Event-ID), re-checking the token
LOOKBACK = 20  # ids re-read each poll: a transaction may commit after a later id is already visible

templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False, route_class=Route)

# page path -> (template, page name used by the navigation)
PAGES = {  # the sign-in page is api.web.sso's (it offers single sign-on when configured)
    "/inbox": "inbox.html",
    "/instances": "instances.html",
    "/designer": "designer.html",
    "/designer/forms": "form_designer.html",
    "/admin/notifications": "notifications.html",
    "/preferences": "preferences.html",
    "/designer/decisions": "decision_designer.html",
    "/analytics": "analytics.html",
}


def install(app: FastAPI) -> None:
    """Add the pages, the live stream and the static files to the app."""
    app.include_router(router)
    app.include_router(admin.router)
    app.include_router(sso.router)
    app.mount("/web/static", StaticFiles(directory=HERE / "static"), name="web-static")
    for prefix, folder in VENDOR.items():
        app.mount(
            f"/web/vendor/{prefix}",
            StaticFiles(directory=NODE_MODULES / folder, check_dir=False),
            name=f"vendor-{prefix}",
        )


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    vendor_ok = (NODE_MODULES / VENDOR["form-js"]).is_dir()
    return templates.TemplateResponse(request, template, {"vendor_ok": vendor_ok, **context})


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    """Swagger UI from our own node_modules: FastAPI's default loads it from a CDN, blank offline."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="opsflow API",
        swagger_js_url="/web/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/web/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/web/vendor/swagger-ui/favicon-32x32.png",
    )


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=status.HTTP_303_SEE_OTHER)


def _static_page(template: str) -> Callable[[Request], HTMLResponse]:
    def page(request: Request) -> HTMLResponse:
        return _page(request, template)

    return page


for _path, _template in PAGES.items():
    router.add_api_route(
        _path,
        _static_page(_template),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"page-{_template.removesuffix('.html')}",
    )


@router.get("/signin", response_class=HTMLResponse, name="page-signin")
def signin_page(request: Request, engine: EngineDep, next: str | None = None) -> HTMLResponse:
    """The sign-in page; after signing in, the browser goes to `next` only if it is a page of ours.
    It offers single sign-on when it is configured (api.web.sso)."""
    provider = engine.sso.provider_name if engine.sso.enabled else None
    return _page(request, "signin.html", next_page=safe_next(next) or "", sso_provider=provider)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: the one check of where a sign-in may lead.

    Browsers forgive a lot in a URL: they drop tabs and newlines anywhere, read a backslash as a slash
    and trim spaces and control characters at the ends, so `/\\evil.example`, `/\t/evil.example` and
    ` //evil.example` all leave the site. Anything with such a character is refused outright instead of
    being cleaned up; what is left must be a plain absolute path (one leading slash, no scheme, no host)."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(c < " " or c == "\x7f" or c.isspace() for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/signin"):
        return None
    return target


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: str) -> HTMLResponse:
    return _page(request, "task.html", task_id=task_id)


@router.get("/instances/{instance_id}", response_class=HTMLResponse)
def instance_page(request: Request, instance_id: str) -> HTMLResponse:
    return _page(request, "instance.html", instance_id=instance_id)


@router.get("/start/{process_key}", response_class=HTMLResponse)
def start_page(request: Request, process_key: str) -> HTMLResponse:
    return _page(request, "start.html", process_key=process_key)


# --- live updates ---------------------------------------------------------------------------------


@router.post("/web/session", status_code=status.HTTP_204_NO_CONTENT)
def open_stream_session(request: Request, response: Response, principal: PrincipalDep) -> None:
    """Store the caller's bearer token in an HttpOnly cookie that only /web/events receives."""
    token = request.headers["authorization"].split(" ", 1)[1].strip()
    response.set_cookie(
        SSE_COOKIE + principal.name,
        token,
        httponly=True,
        samesite="strict",
        path=SSE_PATH,
        secure=request.url.scheme == "https",
    )


@router.delete("/web/session", status_code=status.HTTP_204_NO_CONTENT)
def close_stream_session(response: Response, user: str) -> None:
    response.delete_cookie(SSE_COOKIE + user, path=SSE_PATH, httponly=True, samesite="strict")


@router.get(SSE_PATH)
async def events(
    request: Request,
    engine: EngineDep,
    user: str,
    after: int | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: every instance or task event the signed-in user may see, as it happens.
    Each message is `event: <audit type>`, `id: <audit id>`, `data: {type, instance_id, task_id,
    element_id, actor, at}`; the first is `event: ready` with the cursor."""
    token = request.cookies.get(SSE_COOKIE + user)
    if not token:
        raise Unauthenticated("no stream session: POST /web/session first")
    principal = await run_in_threadpool(engine.identity.authenticate, token)
    if principal.name != user:
        raise Unauthenticated("the stream session belongs to someone else")
    found = _int(last_event_id)
    if found is None:
        found = after if after is not None else await run_in_threadpool(engine.history.last_event_id)
    cursor: int = found

    async def stream() -> AsyncIterator[str]:
        nonlocal cursor
        sent: deque[int] = deque(maxlen=4 * LOOKBACK)
        yield f"retry: 1000\nevent: ready\nid: {cursor}\ndata: {json.dumps({'cursor': cursor})}\n\n"
        started = last_write = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            entries, read_to = await run_in_threadpool(
                engine.history.events_since, max(0, cursor - LOOKBACK), principal=principal
            )
            for entry in entries:
                if entry.id in sent:
                    continue
                sent.append(entry.id)
                last_write = time.monotonic()
                yield _message(entry, max(cursor, entry.id))
            cursor = max(cursor, read_to)
            if time.monotonic() - last_write > HEARTBEAT_SECONDS:
                last_write = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _message(entry: AuditEntry, event_id: int) -> str:
    data = {
        "id": entry.id,
        "type": entry.type,
        "instance_id": entry.instance_id,
        "task_id": entry.task_id,
        "element_id": entry.element_id,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
    }
    return f"event: {entry.type}\nid: {event_id}\ndata: {json.dumps(data)}\n\n"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
