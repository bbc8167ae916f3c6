from pathlib import Path

import pytest

from engine.engine import ProcessEngine
from engine.views import Principal

DATA = Path(__file__).parent / "data"
ADMIN = Principal("admin", "ada", frozenset({"admin", "leader"}))


@pytest.fixture
def deployed(engine: ProcessEngine):
    """deploy(name) deploys tests/engine/data/<name>.bpmn with the forms named <name>_*.form beside it."""

    def deploy(name: str) -> None:
        files = [DATA / f"{name}.bpmn", *sorted(DATA.glob(f"{name}_*.form"))]
        engine.repository.deploy([(f.name, f.read_bytes()) for f in files], actor="test")

    return deploy
