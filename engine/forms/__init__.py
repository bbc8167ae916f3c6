"""Server-side handling of form-js (Camunda forms) files: deploy checks and submission validation."""

from engine.forms.model import bound_variables
from engine.forms.schema import FormProblem, check_form
from engine.forms.validation import FieldError, validate_submission

__all__ = ["FieldError", "FormProblem", "bound_variables", "check_form", "validate_submission"]
