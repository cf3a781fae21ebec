"""The refused rows of an import as an .xlsx to fix and import again."""

from __future__ import annotations

import io
from itertools import groupby

from django.utils.translation import gettext as _

from huitou.imports.models import ImportIssue, ImportJob


def error_workbook(*, job: ImportJob) -> bytes:
    """The sheet's header, then each refused row as read, with what is wrong in a last column.

    The header is the uploaded one, so the fixed file maps the same way
    (the extra column is left out of the mapping).
    """
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Rows to fix"))
    width = len(job.columns)
    sheet.append([*job.columns, _("Excel row"), _("What to fix")])
    issues = (
        ImportIssue.objects.for_org(job.organization_id)
        .filter(job=job)
        .order_by("row", "pk")
        .values_list("row", "column", "message", "cells")
        .iterator(chunk_size=2000)
    )
    for row, group in groupby(issues, key=lambda issue: issue[0]):
        entries = list(group)
        cells = list(entries[0][3])[:width]
        cells += [""] * (width - len(cells))
        messages = "；".join(f"{column}：{message}" if column else message for _row, column, message, _c in entries)
        sheet.append([*cells, row, messages])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
