"""What `opsflow serve --demo` sets up: the handbook deployed and one demo user per group."""

from pathlib import Path

from engine.engine import ProcessEngine
from engine.views import DeploymentView

DEMO_PASSWORD = "opsflow-demo"
DEMO_USERS: dict[str, list[str]] = {
    "lei": ["leader"],
    "dana": ["data"],
    "eric": ["execution"],
    "sara": ["support"],
    "dora": ["designer"],
    "ada": ["admin"],
}


def collect_files(paths: list[Path]) -> list[tuple[str, bytes]]:
    """Files to deploy: the given files, and the .bpmn/.dmn/.form files inside given directories."""
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.bpmn"), *path.glob("*.dmn"), *path.glob("*.form")])
            files += [(f.name, f.read_bytes()) for f in found]
        else:
            files.append((path.name, path.read_bytes()))
    return files


def deploy_handbook(engine: ProcessEngine, actor: str = "opsflow") -> DeploymentView:
    s = engine.settings
    return engine.repository.deploy(
        collect_files([s.forms_dir, s.processes_dir]), name="handbook", actor=actor
    )


def create_demo_users(engine: ProcessEngine) -> dict[str, str]:
    """Demo users (password `opsflow-demo`), each with a fresh token: name -> token."""
    tokens = {}
    for name, groups in DEMO_USERS.items():
        engine.identity.create_user(name, groups, password=DEMO_PASSWORD, exist_ok=True)
        tokens[name] = engine.identity.issue_token(name, label="demo")
    return tokens
