"""The calibration baseline: an empty FastAPI endpoint served by uvicorn the way `opsflow serve` serves
(sync handler in the thread pool, log level info, so one access-log line per request).
Run: python -m bench.empty_app PORT"""

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/empty")
def empty() -> dict:
    return {}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
