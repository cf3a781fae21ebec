"""Forms of the customer pages. They only convert types; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import AgeBracket, BirthdayCalendar, Channel, ConsentRecord, Gender
from huitou.customers.selectors import sources_for
from huitou.tenancy.selectors import staff_names
from huitou.web.widgets import QuickSelect, plain_choices

TEXT_AREA = forms.Textarea(attrs={"rows": 2})


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    wechat = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    age_bracket = forms.ChoiceField(label=_("Age"), choices=AgeBracket.choices, required=False)
    birthday_calendar = forms.ChoiceField(label=_("Birthday calendar"), choices=BirthdayCalendar.choices)
    birth_month = forms.IntegerField(label=_("Birthday month"), min_value=1, max_value=12, required=False)
    birth_day = forms.IntegerField(label=_("Birthday day"), min_value=1, max_value=31, required=False)
    birth_year = forms.IntegerField(label=_("Birth year"), required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    need = forms.CharField(
        label=_("Need"),
        max_length=200,
        required=False,
        help_text=_("What they are interested in, their budget and when."),
        widget=TEXT_AREA,
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, widget=QuickSelect)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas, e.g. VIP, 传播型"))
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    preferred_time = forms.CharField(label=_("Preferred time"), max_length=50, required=False)
    occupation = forms.CharField(label=_("Occupation and work"), max_length=100, required=False)
    family = forms.CharField(label=_("Family situation"), max_length=200, required=False, widget=TEXT_AREA)
    personality = forms.CharField(label=_("Personality"), max_length=200, required=False, widget=TEXT_AREA)
    habits = forms.CharField(label=_("Consumption habits"), max_length=200, required=False, widget=TEXT_AREA)
    hobbies = forms.CharField(label=_("Hobbies"), max_length=200, required=False, widget=TEXT_AREA)
    lifestyle = forms.CharField(label=_("Lifestyle"), max_length=200, required=False, widget=TEXT_AREA)
    values = forms.CharField(label=_("Values"), max_length=200, required=False, widget=TEXT_AREA)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    HARD = (
        "name",
        "phone",
        "wechat",
        "gender",
        "age_bracket",
        "birthday_calendar",
        "birth_month",
        "birth_day",
        "birth_year",
        "email",
        "address",
    )
    # The stage is not edited with the file: it changes on the file's lifecycle panel.
    WORK = ("source", "need", "owner", "tags")
    SOFT = (
        "preferred_channel",
        "preferred_time",
        "occupation",
        "family",
        "personality",
        "habits",
        "hobbies",
        "lifestyle",
        "values",
        "notes",
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—")] + [(s.code, s.label) for s in sources_for(organization_id)]  # type: ignore[attr-defined]
        plain_choices(self.fields["owner"], [(s.pk, s.name) for s in staff_names(organization_id)])

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (str(_("Contact and basic facts")), [self[f] for f in self.HARD]),
            (str(_("Follow-up")), [self[f] for f in self.WORK if f in self.fields]),
            (str(_("Profile")), [self[f] for f in self.SOFT]),
        ]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["tags"] = [t for t in data.get("tags", "").replace("，", ",").split(",") if t.strip()]
        for key in ("consents", "consent_method", "consent_purpose"):
            data.pop(key, None)
        return data


class CustomerCreateForm(CustomerForm):
    consents = forms.MultipleChoiceField(
        label=_("Agrees to receive care and offers by"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_method = forms.ChoiceField(
        label=_("How consent was given"),
        choices=ConsentRecord.Method.choices,
        initial=ConsentRecord.Method.VERBAL,
        required=False,
    )
    consent_purpose = forms.CharField(
        label=_("For what purpose"),
        max_length=200,
        required=False,
        initial=_("Maintenance reminders, care messages and member offers"),
    )
    CONSENT = ("consents", "consent_method", "consent_purpose")

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [*super().groups(), (str(_("Consent to messages")), [self[f] for f in self.CONSENT])]


class VehicleForm(forms.Form):
    plate = forms.CharField(label=_("Plate"), max_length=20, widget=forms.TextInput(attrs={"placeholder": "粤B12345"}))
    vin = forms.CharField(label=_("VIN"), max_length=25, required=False)
    vin_confirmed = forms.BooleanField(
        label=_("The VIN is right as entered, even though its check digit does not match"), required=False
    )
    brand = forms.CharField(label=_("Brand"), max_length=30, required=False)
    model = forms.CharField(label=_("Model"), max_length=50, required=False)
    year = forms.IntegerField(label=_("Model year"), required=False)
    colour = forms.CharField(label=_("Colour"), max_length=20, required=False)
    purchase_date = forms.DateField(
        label=_("Purchase date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    insurance_expiry = forms.DateField(
        label=_("Insurance expiry"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    inspection_due = forms.DateField(
        label=_("Annual inspection due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("vin_confirmed", "mileage")}


class VehicleCreateForm(VehicleForm):
    mileage = forms.IntegerField(label=_("Mileage now (km)"), min_value=0, required=False)


class MileageForm(forms.Form):
    km = forms.IntegerField(label=_("Mileage (km)"), min_value=0)
    odometer_replaced = forms.BooleanField(label=_("The odometer was replaced"), required=False)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Agrees")), ("0", _("Withdraws"))],
        coerce=lambda v: v == "1",
    )
    method = forms.ChoiceField(label=_("How"), choices=ConsentRecord.Method.choices)
    purpose = forms.CharField(label=_("For what purpose"), max_length=200)


class HouseholdForm(forms.Form):
    other = forms.IntegerField(widget=forms.HiddenInput)


class TransferForm(forms.Form):
    customer = forms.IntegerField(widget=forms.HiddenInput)
