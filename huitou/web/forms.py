from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_errors(form: forms.BaseForm, exc: ValidationError | None) -> None:
    """Show a service's ValidationError on the form, field by field.

    Errors for fields the form does not have go to the top of the form; a
    field that already shows an error (a type check) keeps just that one.
    """
    if exc is None:
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.errors:
            continue
        form.add_error(field if field in form.fields else None, errors)
