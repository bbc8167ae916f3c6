"""The admin pages: users, groups, API keys, webhooks and the audit log. Like every page they are HTML
shells whose scripts call the JSON API with the signed-in user's token; the API answers 403 to anyone
but an admin, so a shell opened by someone else shows no data (its script says so). The navigation
shows the link to admins only."""

from collections.abc import Callable

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.routing import Route
from api.web.templating import render
from engine.limits import ALL_EVENT_TYPES, SCOPES, known_event_types

router = APIRouter(include_in_schema=False, route_class=Route)

#: path under /admin -> template
PAGES = {
    "users": "admin/users.html",
    "groups": "admin/groups.html",
    "api-keys": "admin/api_keys.html",
    "webhooks": "admin/webhooks.html",
    "audit": "admin/audit.html",
}


@router.get("/admin", response_class=RedirectResponse)
def admin_home() -> RedirectResponse:
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


def _context() -> dict[str, object]:
    """What the forms offer: the API key scopes and the webhook event types (the groups are data: the
    pages read them from the API)."""
    return {
        "scopes": SCOPES,
        "event_types": [ALL_EVENT_TYPES, *known_event_types()],
        "admin_pages": list(PAGES),
    }


def _admin_page(name: str, template: str) -> Callable[[Request], HTMLResponse]:
    def page(request: Request) -> HTMLResponse:
        return render(request, template, admin_page=name, **_context())

    return page


for _name, _template in PAGES.items():
    router.add_api_route(
        f"/admin/{_name}",
        _admin_page(_name, _template),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"admin-{_name}",
    )
