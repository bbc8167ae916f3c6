"""The layering the code base promises, checked: the engine knows nothing of HTTP, the API reaches
the engine through its facade (ProcessEngine) and public modules, never its services or storage, and
only the unit of work commits."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_engine_never_imports_the_web_layer(path: Path) -> None:
    forbidden = {m for m in imports(path) if m.split(".")[0] in {"fastapi", "starlette", "api", "uvicorn"}}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("path", modules("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_reaches_storage_and_spiffworkflow_only_through_the_engine(path: Path) -> None:
    inner = ("engine.storage", "engine.bpmn", "SpiffWorkflow", "sqlmodel", "sqlalchemy")
    forbidden = {m for m in imports(path) if m.startswith(inner)}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("path", modules("api"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_enters_the_engine_through_its_facade(path: Path) -> None:
    """The services behind ProcessEngine, and the database they share, are the engine's own: what api/
    needs of them is public in engine.views (read models), engine.queries (the Camunda-shaped queries'
    filters and records), engine.errors and engine.limits."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = imports(path) | {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "engine"
        for alias in node.names
    }
    forbidden = {m for m in names if m == "engine.services" or m.startswith("engine.services.")}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"
    database = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "db"]
    assert not database, f"{path.relative_to(ROOT)} uses the engine's database (.db) on lines {database}"


def test_only_the_unit_of_work_commits() -> None:
    committing = [
        str(p.relative_to(ROOT))
        for p in [*modules("engine"), *modules("api")]
        if ".commit(" in p.read_text() and p != ROOT / "engine" / "storage" / "uow.py"
    ]
    assert committing == []


def test_only_engine_bpmn_imports_spiffworkflow() -> None:
    outside = [
        str(p.relative_to(ROOT))
        for p in modules("engine")
        if "bpmn" not in p.parts and any(m.startswith("SpiffWorkflow") for m in imports(p))
    ]
    assert outside == []
