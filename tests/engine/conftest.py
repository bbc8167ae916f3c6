from pathlib import Path

import pytest

from engine.engine import ProcessEngine
from engine.views import Principal

DATA = Path(__file__).parent / "data"
ADMIN = Principal("admin", "ada", frozenset({"admin", "leader"}))


@pytest.fixture
def deployed(engine: ProcessEngine):
    """deploy(name) deploys tests/engine/data/<name>.bpmn."""

    def deploy(name: str) -> None:
        engine.repository.deploy([(f"{name}.bpmn", (DATA / f"{name}.bpmn").read_bytes())], actor="test")

    return deploy
