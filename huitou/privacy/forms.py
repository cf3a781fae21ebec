from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EraseForm(forms.Form):
    """The confirmation step: the reason, and the customer number typed again."""

    reason = forms.CharField(label=_("Why"), max_length=200, required=False, widget=forms.TextInput())
    confirm = forms.CharField(label=_("Customer number, to confirm"), max_length=20, required=False)


class RetentionForm(forms.Form):
    prospect_retention_months = forms.IntegerField(
        label=_("Anonymise prospects who never paid after (months)"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Empty: keep them. Checked every night."),
    )
