"""An unexpected error is a 500 with a problem body, and the client's keep-alive connection stays
usable (uvicorn drops it when an exception reaches it)."""

import httpx

from api.main import create_app
from engine.config import Settings
from tests.helpers.server import live_server


def test_after_a_500_the_next_request_on_the_same_connection_is_answered(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"run_worker": False}))

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/health").status_code == 200
        failed = client.get("/boom")
        assert failed.status_code == 500
        assert failed.json() == {"error": "internal", "message": "internal server error", "problems": []}
        assert client.get("/health").status_code == 200
        assert client.get("/boom").status_code == 500
