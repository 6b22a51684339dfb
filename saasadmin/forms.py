"""What every form page needs whatever the app: no refusal may land where the page does not show it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorList


class EveryErrorShown(forms.Form):
    """A form whose page renders only some fields: errors of the others join the non-field errors.

    A page shows a field's errors beside it only when it renders that field visibly; a field left out of
    the page (or a hidden input) would swallow its refusal and the form would come back with no message.
    Pages list what they render in `shown_fields()`; the template shows `non_field_errors` first.
    """

    def shown_fields(self) -> Iterable[str]:
        """The fields the page renders with their own error slot (default: all of them)."""
        return self.fields

    # `error` as Django's overloads take it (an error, a message, a list of them, or field → errors).
    def add_error(self, field: str | None, error: Any) -> None:
        """Django's, except that an error for a name that is no field of the form (a service's refusal
        keyed by its own names, say "members") joins the form's own errors instead of raising."""
        if not isinstance(error, ValidationError):
            error = ValidationError(error)
        if field is not None and field not in self.fields:
            field = None
        if field is None and hasattr(error, "error_dict"):
            merged: dict[str, list[ValidationError]] = {}
            for name, errors in error.error_dict.items():
                merged.setdefault(name if name in self.fields else NON_FIELD_ERRORS, []).extend(errors)
            error = ValidationError(merged)
        super().add_error(field, error)

    def non_field_errors(self) -> ErrorList:
        errors = super().non_field_errors()
        shown = {name for name in self.shown_fields() if not self[name].is_hidden}
        unseen = [
            f"{self[name].label}: {message}"
            for name, messages in self.errors.items()
            if name in self.fields and name not in shown
            for message in messages
        ]
        if not unseen:
            return errors
        return self.error_class([*errors, *unseen], error_class="nonfield", renderer=self.renderer)
