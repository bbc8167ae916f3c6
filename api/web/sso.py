"""Single sign-on (OpenID Connect) in the browser (the sign-in page, api.web.routes, offers it).

GET /auth/oidc/login sends the browser to the identity provider and keeps the sign-on's `state` in an
HttpOnly cookie (SameSite=Lax: the provider's redirect back is a cross-site navigation) whose path is
only the callback. GET /auth/oidc/callback finishes the sign-on (engine's SsoService checks state, PKCE,
the ID token) and hands the new session token to the page the way /web/session does the reverse: in an
HttpOnly cookie for POST /web/sso/token only, which the sign-in page's script exchanges once for the
token (pages keep their token in sessionStorage). A refusal goes back to the sign-in page with its
reason (`?sso_error=<reason>`), never with a token.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse

from api.deps import EngineDep
from api.routing import Route
from engine.errors import NotFound, SsoRefused, Unauthenticated
from engine.limits import SSO_CALLBACK_PATH

router = APIRouter(include_in_schema=False, route_class=Route)

STATE_COOKIE = "opsflow_sso_state"
HANDOFF_COOKIE = "opsflow_sso_handoff"
HANDOFF_PATH = "/web/sso/token"
STATE_SECONDS = 600
HANDOFF_SECONDS = 60


@router.get("/auth/oidc/login")
def start_sign_on(request: Request, engine: EngineDep, next: str = "") -> RedirectResponse:
    """To the identity provider, to come back at the callback."""
    if not engine.sso.enabled:
        raise NotFound("single sign-on is not configured")
    try:
        started = engine.sso.begin(next)
    except SsoRefused as refused:  # the provider cannot be reached
        return _refused(refused.reason)
    response = RedirectResponse(started.authorization_url, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=STATE_SECONDS,
        httponly=True,
        samesite="lax",
        path=SSO_CALLBACK_PATH,
        secure=request.url.scheme == "https",
    )
    return response


@router.get(SSO_CALLBACK_PATH)
def finish_sign_on(
    request: Request,
    engine: EngineDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> RedirectResponse:
    """The provider's redirect back: signed in (the sign-in page fetches the token), or refused."""
    if error:  # the provider said no (the user cancelled, or is not allowed to use opsflow)
        return _refused("provider")
    try:
        signed_in = engine.sso.finish(code=code, state=state, browser_state=request.cookies.get(STATE_COOKIE))
    except SsoRefused as refused:
        return _refused(refused.reason)
    query = {"sso": "done", **({"next": signed_in.next_url} if signed_in.next_url else {})}
    response = RedirectResponse("/signin?" + urlencode(query), status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(STATE_COOKIE, path=SSO_CALLBACK_PATH, httponly=True, samesite="lax")
    response.set_cookie(
        HANDOFF_COOKIE,
        signed_in.token,
        max_age=HANDOFF_SECONDS,
        httponly=True,
        samesite="strict",
        path=HANDOFF_PATH,
        secure=request.url.scheme == "https",
    )
    return response


@router.post(HANDOFF_PATH)
def hand_over_token(request: Request, response: Response) -> dict[str, str]:
    """The session token of the sign-on that just finished in this browser, once."""
    token = request.cookies.get(HANDOFF_COOKIE)
    if not token:
        raise Unauthenticated("no single sign-on to finish in this browser")
    response.delete_cookie(HANDOFF_COOKIE, path=HANDOFF_PATH, httponly=True, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return {"token": token, "token_type": "bearer"}


def _refused(reason: str) -> RedirectResponse:
    response = RedirectResponse(
        "/signin?" + urlencode({"sso_error": reason}), status_code=status.HTTP_303_SEE_OTHER
    )
    response.delete_cookie(STATE_COOKIE, path=SSO_CALLBACK_PATH, httponly=True, samesite="lax")
    return response
