"""engine.forms stays a pure library: no web framework, no database."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_engine_forms_pulls_in_no_web_or_database_packages():
    probe = (
        "import sys, engine.forms\n"
        "banned = {'fastapi', 'starlette', 'sqlalchemy', 'sqlmodel'}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in banned))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"
