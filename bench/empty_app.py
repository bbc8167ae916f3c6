"""The calibration baselines, served the way `opsflow serve` serves: the same uvicorn options
(`api.cli.uvicorn_options`: uvloop, httptools), sync handlers run in the thread pool by the same route
class (`api.routing.Route`), and the same telemetry setting (`api.main.telemetry`).

- `GET /empty` answers `{}`: the cost of HTTP and FastAPI alone.
- `POST /write` is the floor of any durable change on this stack: it parses a JSON body like a task
  completion's, then, in one write transaction of `engine.storage.uow.Transactions` (SQLite in WAL mode
  with opsflow's pragmas, BEGIN IMMEDIATE, SQLAlchemy Core statements), updates one row like a process
  instance's (3.5 KB of state, optimistic version check) and appends one row with the body as JSON, and
  commits. A completion does this and everything else: the inbox index, the audit, SpiffWorkflow.

Run: python -m bench.empty_app PORT
"""

import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from api.cli import uvicorn_options
from api.main import telemetry
from api.routing import Route
from engine.storage.db import make_engine
from engine.storage.uow import Transactions, UnitOfWork

STATE = "s" * 3500  # about a three-task instance's state

_metadata = sa.MetaData()
_instance = sa.Table(
    "instance",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
_event = sa.Table(
    "event", _metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("details", sa.JSON)
)
_READ_VERSION = sa.select(_instance.c.version).where(_instance.c.id == 1)
_UPDATE = _instance.update().where(_instance.c.id == 1, _instance.c.version == sa.bindparam("seen"))
_APPEND = _event.insert()


class Body(BaseModel):
    data: dict


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    folder = Path(tempfile.mkdtemp(prefix="opsflow-bench-floor-"))
    db = make_engine(f"sqlite:///{folder / 'floor.db'}")
    _metadata.create_all(db)
    with db.begin() as conn:
        conn.execute(_instance.insert(), {"id": 1, "state": STATE, "version": 0})
    app.state.tx = Transactions(db)
    try:
        yield
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)


app = FastAPI(telemetry=telemetry(), lifespan=lifespan)
app.router.route_class = Route


@app.get("/empty")
def empty() -> dict:
    return {}


@app.post("/write")
def write(body: Body) -> dict:
    def change(uow: UnitOfWork) -> dict:
        conn = uow.session.connection()
        seen = conn.execute(_READ_VERSION).scalar_one()
        conn.execute(_UPDATE, {"state": STATE, "version": seen + 1, "seen": seen})
        conn.execute(_APPEND, {"details": body.data})
        return {"version": seen + 1}

    return app.state.tx.write(change)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), **uvicorn_options())
