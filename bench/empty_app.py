"""The calibration baseline: an empty FastAPI endpoint served the way `opsflow serve` serves: the same
uvicorn options (`api.cli.uvicorn_options`: uvloop, httptools, log level info, one access-log line per
request), a sync handler run in the thread pool by the same route class (`api.routing.Route`), and the
same telemetry setting (`api.main.telemetry`).
Run: python -m bench.empty_app PORT"""

import sys

import uvicorn
from fastapi import FastAPI

from api.cli import uvicorn_options
from api.main import telemetry
from api.routing import Route

app = FastAPI(telemetry=telemetry())
app.router.route_class = Route


@app.get("/empty")
def empty() -> dict:
    return {}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), **uvicorn_options())
