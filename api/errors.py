"""Engine errors to HTTP: one JSON shape for every error, and never a stack trace."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.language import in_chinese, prefers_chinese
from engine.errors import (
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OpsflowError,
    Problem,
    TooManyAttempts,
    Unauthenticated,
)
from engine.types import JsonObject

log = logging.getLogger("opsflow.api")

STATUS = [
    (Unauthenticated, 401, "unauthenticated"),
    (TooManyAttempts, 429, "too_many_attempts"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (InvalidInput, 422, "invalid_input"),
]


class ProblemOut(BaseModel):
    message: str
    file: str | None = None
    line: int | None = None
    element_id: str | None = None
    path: str | None = None


class ErrorOut(BaseModel):
    """Every error answer: a kind, a message for people, and each problem with where it is."""

    error: str
    message: str
    problems: list[ProblemOut]


#: Documented on every operation (FastAPI's default 422 schema is replaced: ours is this one).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorOut, "description": "a client error"},
    500: {"model": ErrorOut, "description": "a server error"},
}


def error_body(kind: str, message: str, problems: list[Problem] | None = None) -> JsonObject:
    return {"error": kind, "message": message, "problems": [p.as_dict() for p in problems or []]}


def localized_body(
    request: Request, kind: str, message: str, problems: list[Problem] | None = None
) -> JsonObject:
    """error_body in the reader's language (api.language): the kind and the places stay as they are."""
    body = error_body(kind, message, problems)
    if prefers_chinese(request):
        body["message"] = in_chinese(body["message"])
        for problem in body["problems"]:
            problem["message"] = in_chinese(problem["message"])
    return body


class AnswerUnexpected:
    """Answers an unexpected exception with a 500 and keeps the connection. Starlette's own
    catch-all (`exception_handler(Exception)`) answers, then re-raises for the server to log, and
    uvicorn closes a keep-alive connection on any exception that reaches it: the client's next
    request on it would fail."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:  # half an answer went out: only closing the connection can end it
                raise
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            response = JSONResponse(error_body("internal", "internal server error"), status_code=500)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(AnswerUnexpected)

    @app.exception_handler(OpsflowError)
    async def engine_error(request: Request, exc: OpsflowError) -> JSONResponse:
        status, kind = next(((s, k) for cls, s, k in STATUS if isinstance(exc, cls)), (400, "bad_request"))
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, ConcurrentUpdate):
            headers = {"Retry-After": "1"}  # a retry may well succeed; not an answer to keep
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": "900"}
        body = localized_body(request, kind, exc.message, exc.problems)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(
                e.get("msg", "invalid"),
                path=".".join(str(p) for p in e.get("loc", ()) if p != "body") or None,
            )
            for e in exc.errors()
        ]
        return JSONResponse(
            localized_body(request, "invalid_input", "the request is not valid", problems), status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
            exc.status_code, "error"
        )
        return JSONResponse(
            error_body(kind, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal server error"), status_code=500)
