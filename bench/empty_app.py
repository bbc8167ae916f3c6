"""The calibration baseline: an empty FastAPI endpoint served by uvicorn the way `opsflow serve` serves
(the same uvicorn options, `api.cli.uvicorn_options`: uvloop, httptools, log level info, one access-log
line per request; a sync handler in the thread pool).
Run: python -m bench.empty_app PORT"""

import sys

import uvicorn
from fastapi import FastAPI

from api.cli import uvicorn_options

app = FastAPI()


@app.get("/empty")
def empty() -> dict:
    return {}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), **uvicorn_options())
