"""/api/v1: exports of the customer list, the order list and a customer's statement (.xlsx, .csv), and my exports.

A list of up to ``EXPORT_SYNC_MAX_ROWS`` rows (5,000 by default) answers 200 with the file; a
longer one answers 202 with the export job, made in the background: poll
``GET /exports/{export_id}`` until ``state`` is ``ready``, then download ``GET
/exports/{export_id}/file``. The filters are the list pages' (and the list API's); phones are
masked for roles that see them masked. Every export is recorded in the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.service_schemas import IdIn, OrderStateCode
from huitou.exports import selectors, services
from huitou.exports.models import ExportJob
from huitou.exports.views import attachment
from huitou.exports.writers import CONTENT_TYPES
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["exports"])

ExportState = Literal["pending", "running", "ready", "delivered", "failed", "expired"]
StageCode = Literal["", "prospect", "intent", "customer", "member", "dormant", "lost"]


class ExportJobOut(Schema):
    id: int
    source: Literal["customers", "orders", "statement"] | str = Field(description="The list exported")
    format: Literal["xlsx", "csv"]
    filters: dict[str, Any] = Field(description="The filters as the list read them")
    state: ExportState = Field(
        description="pending/running: being made; ready: download it from `file_url`; delivered: handed over "
        "at once; failed; expired: the kept file was removed (after 7 days)"
    )
    rows: int | None = Field(description="Rows in the file (while being made: rows expected)")
    created_at: dt.datetime
    finished_at: dt.datetime | None
    file_url: str | None = Field(description="Where to download the file while `ready`")


def job_out(job: ExportJob) -> dict[str, Any]:
    ready = job.state == ExportJob.State.READY
    return {
        "id": job.pk,
        "source": job.source,
        "format": job.format,
        "filters": job.filters,
        "state": job.state,
        "rows": job.rows,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "file_url": f"/api/v1/exports/{job.pk}/file" if ready else None,
    }


class CustomerExportFilters(Schema):
    q: str = Field(default="", max_length=50, description="The search box: name, pinyin, phone, plate, VIN")
    stage: StageCode = ""
    tag: str = Field(default="", max_length=30, description="A tag name")
    owner: IdIn | None = Field(default=None, description="The owner's staff id")
    shop: IdIn | None = Field(default=None, description="Customers whose owner works at this shop")
    grade: Literal["", "H", "A", "B", "C"] = Field(default="", description="Latest intent grade")


class OrderExportFilters(Schema):
    customer: IdIn | None = Field(
        default=None, description="Every order of this customer (then shop and date are not used)"
    )
    shop: IdIn | None = Field(default=None, description="The shop's orders (of `date`)")
    date: dt.date | None = Field(default=None, description="The local day the orders were opened; default today")
    state: OrderStateCode | None = None


class StatementExportFilters(Schema):
    ledger: Literal["", "all", "points", "stored_value", "package_cards", "coupons"] = Field(
        default="", description="One ledger; `all` (or nothing): all four, as the statement page"
    )


def _file_responses(what: str) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "responses": {
            200: {
                "description": f"The {what} file (up to EXPORT_SYNC_MAX_ROWS rows)",
                "content": {CONTENT_TYPES["xlsx"]: binary, "text/csv": binary},
            }
        }
    }


def _export(request: ApiRequest, source: str, fmt: str, params: dict[str, Any]) -> Any:
    query = {k: ("" if v is None else str(v)) for k, v in params.items()}
    result = services.export_request(
        organization=request.organization, by=request.user, source=source, fmt=fmt, params=query
    )
    if result.content is None:
        return Status(202, job_out(result.job))
    job = result.job
    return attachment(HttpResponse(result.content, content_type=CONTENT_TYPES[job.format]), job.filename)


def _customers(request: ApiRequest, filters: CustomerExportFilters, fmt: str) -> Any:
    return _export(request, "customers", fmt, filters.model_dump())


def _orders(request: ApiRequest, filters: OrderExportFilters, fmt: str) -> Any:
    return _export(request, "orders", fmt, filters.model_dump())


@router.get(
    "/customers/export.xlsx",
    response={202: ExportJobOut},
    summary="Export the customer list (.xlsx)",
    openapi_extra=_file_responses("customer list"),
)
def export_customers_xlsx(request: ApiRequest, filters: Query[CustomerExportFilters]) -> Any:
    """The customers the list shows under these filters (``customers.view``), one row each."""
    return _customers(request, filters, "xlsx")


@router.get(
    "/customers/export.csv",
    response={202: ExportJobOut},
    summary="Export the customer list (.csv, UTF-8)",
    openapi_extra=_file_responses("customer list"),
)
def export_customers_csv(request: ApiRequest, filters: Query[CustomerExportFilters]) -> Any:
    return _customers(request, filters, "csv")


@router.get(
    "/orders/export.xlsx",
    response={202: ExportJobOut},
    summary="Export the order list (.xlsx)",
    openapi_extra=_file_responses("order list"),
)
def export_orders_xlsx(request: ApiRequest, filters: Query[OrderExportFilters]) -> Any:
    """The orders the order list shows: one customer's, or a shop's of a day; by state (``orders.view``)."""
    return _orders(request, filters, "xlsx")


@router.get(
    "/orders/export.csv",
    response={202: ExportJobOut},
    summary="Export the order list (.csv, UTF-8)",
    openapi_extra=_file_responses("order list"),
)
def export_orders_csv(request: ApiRequest, filters: Query[OrderExportFilters]) -> Any:
    return _orders(request, filters, "csv")


def _statement(request: ApiRequest, customer_id: int, filters: StatementExportFilters, fmt: str) -> Any:
    return _export(request, "statement", fmt, {"customer": customer_id, **filters.model_dump()})


@router.get(
    "/customers/{customer_id}/statement/export.xlsx",
    response={202: ExportJobOut},
    summary="Export a customer's statement (.xlsx)",
    openapi_extra=_file_responses("statement"),
)
def export_statement_xlsx(request: ApiRequest, customer_id: IdIn, filters: Query[StatementExportFilters]) -> Any:
    """Every line of the customer's statement in one ledger or all four, newest first, as the statement
    page shows it (``customers.view``): time, ledger, what, amount, balance after, order number, reason.
    Another organization's customer: 404."""
    return _statement(request, customer_id, filters, "xlsx")


@router.get(
    "/customers/{customer_id}/statement/export.csv",
    response={202: ExportJobOut},
    summary="Export a customer's statement (.csv, UTF-8)",
    openapi_extra=_file_responses("statement"),
)
def export_statement_csv(request: ApiRequest, customer_id: IdIn, filters: Query[StatementExportFilters]) -> Any:
    return _statement(request, customer_id, filters, "csv")


@router.get("/exports", response=list[ExportJobOut], summary="My exports")
def list_exports(request: ApiRequest) -> list[dict[str, Any]]:
    """The caller's last 50 exports, newest first."""
    jobs = selectors.exports_of(organization=request.organization, user=request.user)[:50]
    return [job_out(job) for job in jobs]


def _job(request: ApiRequest, export_id: int) -> ExportJob:
    return get_scoped_or_404(
        selectors.exports_of(organization=request.organization, user=request.user), request.organization, pk=export_id
    )


@router.get("/exports/{export_id}", response=ExportJobOut, summary="One of my exports")
def get_export(request: ApiRequest, export_id: IdIn) -> dict[str, Any]:
    return job_out(_job(request, export_id))


@router.get(
    "/exports/{export_id}/file",
    response={409: dict[str, str]},
    summary="Download one of my exports",
    openapi_extra=_file_responses("export"),
)
def download_export(request: ApiRequest, export_id: IdIn) -> Any:
    """The file while the export is ``ready``; 409 while it is being made or after it was removed."""
    job = _job(request, export_id)
    try:
        handle = services.export_open(job=job)
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return attachment(FileResponse(handle, content_type=CONTENT_TYPES[job.format]), job.filename)
