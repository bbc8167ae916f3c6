"""The route class of every router: one thread hand-off per request, not two.

FastAPI runs a plain `def` endpoint in the thread pool, then validates its answer in the thread pool again.
Each hand-off between the event loop and a worker thread costs about 0.1 ms on a small machine, as much
as a small request's own work. `Route` turns such an endpoint into a coroutine that runs it in the thread
pool, so that FastAPI validates the answer on the event loop. The endpoint's signature, name and
docstring are kept (`functools.wraps`), so dependencies, OpenAPI and operation ids do not change.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


class Route(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_thread_pool(endpoint), **kwargs)


def in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine function running a plain function in the thread pool (others are returned as they are)."""
    if not inspect.isfunction(endpoint) or inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run
