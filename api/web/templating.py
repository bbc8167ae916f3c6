"""Rendering of the pages that need more than a template: the admin pages and the sign-in page."""

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def render(request: Request, template: str, **context: object) -> HTMLResponse:
    # base.html warns when the bpmn.io libraries are missing (api/web/routes.py:VENDOR)
    vendor_ok = (HERE.parent.parent / "node_modules" / "@bpmn-io" / "form-js" / "dist").is_dir()
    return templates.TemplateResponse(request, template, {"vendor_ok": vendor_ok, **context})
