from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is wrong. Both are case-sensitive."),
        "inactive": _("This account has been deactivated. Ask the store manager."),
    }


class StaffForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    display_name = forms.CharField(label=_("Name"), max_length=50)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    shops = forms.ModelMultipleChoiceField(
        label=_("Shops"), queryset=Shop.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=8, required=False)

    def __init__(self, *args: Any, organization_id: int, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shops"].queryset = Shop.objects.for_org(organization_id).filter(is_active=True)  # type: ignore[attr-defined]
        if editing:
            del self.fields["username"]
            self.fields["password"].label = _("New password (leave empty to keep)")
        else:
            self.fields["password"].required = True


class InactivityForm(forms.Form):
    dormant_after_days = forms.IntegerField(
        label=_("Dormant after (days without a visit)"),
        min_value=0,
        max_value=3650,
        help_text=_("Customers and members with no paid visit for this many days become dormant. 0: never."),
    )
    lost_after_days = forms.IntegerField(
        label=_("Lost after (days without a visit)"),
        min_value=0,
        max_value=3650,
        help_text=_("Later, they count as lost. 0: never."),
    )
