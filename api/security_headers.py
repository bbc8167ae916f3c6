"""Security headers on every answer (pure ASGI: it runs on every request, so it adds headers to the
start message and does nothing else).

The pages load only our own scripts (no inline script anywhere in api/web/templates), so scripts are
`'self'` alone. Styles allow 'unsafe-inline' because bpmn-js and form-js set style attributes on the
elements they draw; a style cannot run code. Images allow data: and blob: (the favicon, diagram
exports). The API's /docs page (Swagger UI, as FastAPI writes it) starts with an inline script, so the
Content-Security-Policy is left off that path only; the other headers are everywhere.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, without_csp: tuple[str, ...] = ()) -> None:
        self.app = app
        self.without_csp = without_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS if scope["path"].startswith(self.without_csp) else [*HEADERS, _CSP]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                missing = [h for h in extra if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", ()), *missing]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
