"""/api/v1/imports: bring customers with their cars, prospects or service history in from a sheet.

``POST /imports`` takes the file (multipart), finds its header row, maps the
columns (recognised from their headers, or as ``mapping`` says) and makes
the dry run: at once for a small sheet, in the background for a larger one
(``state`` ``queued`` or ``running`` with ``dry_run`` true, then
``checked``). With ``dry_run=false`` the import is then queued and runs in
the background, batch by batch: poll ``GET /imports/{import_id}`` until
``state`` is ``done``. Store managers only.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.exceptions import ValidationError
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.service_schemas import IdIn
from huitou.imports import errors, selectors, services
from huitou.imports.models import ImportJob
from huitou.imports.selectors import REPORTED_ISSUES
from huitou.imports.services.jobs import MAX_UPLOAD_MB
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["imports"])

ImportKindCode = Literal["customers", "prospects", "orders"]
ImportStateCode = Literal["uploaded", "checked", "queued", "running", "done", "failed"]
OnDuplicateCode = Literal["skip", "update", "merge"]
FieldCode = Literal[
    "name", "phone", "wechat", "gender", "birthday", "address", "notes", "source", "need", "plate", "brand",
    "model", "brand_model", "vin", "colour", "last_service_date", "mileage", "service_item", "date", "amount",
]  # fmt: skip


class ImportErrorOut(Schema):
    row: int = Field(ge=1, description="The row as Excel numbers it, title rows included")
    column: str = Field(max_length=100, description="The column's header text; empty for the row as a whole")
    message: str = Field(max_length=300, description="What is wrong, in the user's language")


class ImportOut(Schema):
    id: int
    kind: ImportKindCode
    state: ImportStateCode = Field(
        description="checked: the dry run is done (the report is its); queued/running: the dry run of a large "
        "sheet (dry_run true) or the import, the report counts the rows done so far; done: the report is the "
        "import's; failed: the file could not be read again"
    )
    dry_run: bool = Field(description="Whether the report is a dry run's (nothing written)")
    filename: str
    header_row: int = Field(ge=1, description="The Excel row of the header")
    columns: list[str] = Field(description="The header's texts, by column number from 0")
    mapping: dict[FieldCode, int] = Field(description="Field to column number (from 0)")
    on_duplicate: OnDuplicateCode
    total_rows: int | None = Field(description="Data rows of the sheet (blank and 合计 rows left out)")
    rows: int = Field(ge=0, description="Rows done: created + updated + skipped + failed")
    created: int = Field(ge=0, description="Rows that created a file or added a car to a file this import made")
    updated: int = Field(ge=0, description="Rows whose phone or plate was on file and that updated or merged it")
    skipped: int = Field(ge=0, description="Rows whose phone or plate was on file, skipped as duplicates")
    failed: int = Field(ge=0, description="Rows refused; each refused cell is in `errors`")
    percent: int = Field(ge=0, le=100)
    errors: list[ImportErrorOut] = Field(
        description=f"The refused cells by row, the first {REPORTED_ISSUES}; the page's error sheet has them all"
    )


def _mapping(job_columns: list[str], text: str) -> dict[str, int]:
    """The ``mapping`` form field: JSON of field to column number, or to the column's header text."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError({"mapping": [errors.MAPPING_INVALID]}) from exc
    if not isinstance(raw, dict):
        raise ValidationError({"mapping": [errors.MAPPING_INVALID]})
    mapping: dict[str, Any] = {}
    for name, column in raw.items():
        if isinstance(column, str) and column in job_columns:
            column = job_columns.index(column)
        mapping[str(name)] = column
    return mapping


@router.post(
    "",
    response={201: ImportOut},
    summary="Upload a sheet: the dry run, or the import",
    description=f"`file`: .xlsx, .xls or .csv (UTF-8 or GBK/GB18030), at most {MAX_UPLOAD_MB} MB; the header row "
    "may sit under title rows; blank and 合计 rows are passed over. 422 when the file cannot be read or the "
    "mapping is wrong; 403 for roles other than the store manager.",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {"file": {"contentType": "application/octet-stream"}},
                }
            }
        }
    },
)
def create_import(
    request: ApiRequest,
    file: File[UploadedFile],
    kind: Form[ImportKindCode] = "customers",
    dry_run: Form[bool] = True,
    mapping: str = Form(
        "",
        max_length=4000,
        description='JSON object of field to column number from 0 or to header text, e.g. {"name": 0, "phone": '
        '"手机号码"}; left out, the columns are recognised from their headers',
    ),
    on_duplicate: Form[OnDuplicateCode] = "skip",
) -> Any:
    organization = require(request, Perm.IMPORT_DATA)
    job = services.import_upload(organization=organization, by=request.user, upload=file, kind=kind)
    services.import_configure(
        job=job, mapping=_mapping(job.columns, mapping) if mapping else None, on_duplicate=on_duplicate
    )
    job = services.import_check_request(job=job, by=request.user, then_import=not dry_run)
    return Status(201, selectors.import_report(job=job))


@router.get("/{import_id}", response=ImportOut, summary="An import's progress and report")
def get_import(request: ApiRequest, import_id: IdIn) -> dict[str, Any]:
    organization = require(request, Perm.IMPORT_DATA)
    job = get_scoped_or_404(ImportJob.objects.all(), organization, pk=import_id)
    return selectors.import_report(job=job)
