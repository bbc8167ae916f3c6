"""Every form file shipped in the repository passes the deploy gate and validates an empty submission."""

import json
from pathlib import Path

import pytest

from engine.forms import check_form, validate_submission

REPO = Path(__file__).resolve().parents[2]
FORM_FILES = sorted(REPO.glob("forms/**/*.form"))


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_repository_form_is_deployable(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert check_form(schema) == []
    clean, errors = validate_submission(schema, {})
    assert isinstance(clean, dict)
    assert all(error.field_id for error in errors)
