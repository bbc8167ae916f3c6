"""Server-side handling of form-js (Camunda forms) files: deploy checks and submission validation."""

from engine.forms.schema import FormProblem, check_form
from engine.forms.validation import FieldError, validate_submission

__all__ = ["FieldError", "FormProblem", "check_form", "validate_submission"]
