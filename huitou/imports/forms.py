"""The upload form and the column mapping form of the import page (thin: the services check)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huitou.imports.labels import field_label
from huitou.imports.models import ImportJob, ImportKind, OnDuplicate
from huitou.imports.services.rows import KIND_FIELDS, KIND_REQUIRED

NOT_IMPORTED = ""


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The sheet holds"), choices=ImportKind.choices, initial=ImportKind.CUSTOMERS)
    file = forms.FileField(
        label=_("Sheet"),
        help_text=_(".xlsx, .xls or .csv (UTF-8 or GBK). Title rows above the header and 合计 rows are fine."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )


class MappingForm(forms.Form):
    """One choice per field of the kind: which column holds it (or none)."""

    on_duplicate = forms.ChoiceField(
        label=_("A row whose phone or plate is already on file"),
        choices=OnDuplicate.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        columns = [(NOT_IMPORTED, _("— not imported —"))] + [
            (str(i), _("%(header)s (column %(n)s)") % {"header": text or "?", "n": i + 1})
            for i, text in enumerate(job.columns)
        ]
        self.field_names = list(KIND_FIELDS[job.kind])
        for name in self.field_names:
            self.fields[f"col_{name}"] = forms.ChoiceField(
                label=str(field_label(name)),
                choices=columns,
                required=name in KIND_REQUIRED[job.kind],
                initial=str(job.mapping[name]) if name in job.mapping else NOT_IMPORTED,
            )
        self.fields["on_duplicate"].initial = job.on_duplicate

    def mapping_fields(self) -> list[Any]:
        return [self[f"col_{name}"] for name in self.field_names]

    def mapping(self) -> dict[str, int]:
        return {
            name: int(self.cleaned_data[f"col_{name}"])
            for name in self.field_names
            if self.cleaned_data.get(f"col_{name}") not in (None, NOT_IMPORTED)
        }
