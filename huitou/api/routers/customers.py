from __future__ import annotations

from typing import Any, Literal

from ninja import Query, Router, Status
from pydantic import Field

from huitou.analytics.panel import score_out
from huitou.api.base import Schema
from huitou.api.errors import fields_renamed
from huitou.api.permissions import require
from huitou.api.schemas import (
    MAX_PAGE,
    ChangeOut,
    ConsentIn,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    HouseholdIn,
    VehicleIn,
    VehicleOut,
)
from huitou.api.service_schemas import IdIn
from huitou.customers import selectors, services
from huitou.customers.models import Customer
from huitou.customers.presentation import history_for_viewer, visible_phone
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["customers"])


# The fields of CustomerOut that are the customer's own columns, as they are (the rest is worked out below).
_COLUMNS = tuple(
    name
    for name in CustomerOut.model_fields
    if name in {field.attname for field in Customer._meta.concrete_fields} and name not in {"phone", "source"}
)


def customer_out(customer: Customer, viewer: User) -> dict[str, Any]:
    """A customer as the API shows it to ``viewer`` (its tag names annotated: ``selectors.TagNames``)."""
    owner = customer.owner
    return {
        **{name: getattr(customer, name) for name in _COLUMNS},
        "phone": visible_phone(customer, viewer),
        "source": customer.source.code if customer.source is not None else None,
        "owner": {"id": owner.pk, "username": owner.username, "name": str(owner)},
        "tags": selectors.tag_names(customer),
        "consents": customer.consents(),
        **score_out(customer),
    }


# The payload names the referring customer ``referrer_id``; the services call it ``referrer``.
REFERRER_FIELD = {"referrer": "referrer_id"}


def _as_service_data(data: dict[str, Any]) -> dict[str, Any]:
    if "referrer_id" in data:
        data["referrer"] = data.pop("referrer_id")
    return data


def _get_customer(request: ApiRequest, customer_id: int) -> Customer:
    """The caller's organization's active customer, ready for ``customer_out`` (1 query: the row with
    owner, source, organization, score and its tag names)."""
    return get_scoped_or_404(
        Customer.objects.active()
        .select_related("owner", "source", "organization", "score")
        .annotate(tag_name_list=selectors.TagNames()),
        request.organization,
        pk=customer_id,
    )


def _get_customer_row(request: ApiRequest, customer_id: int) -> Customer:
    """The caller's organization's active customer alone (1 query), for routes that do not show it."""
    return get_scoped_or_404(
        Customer.objects.active(),
        request.organization,
        pk=customer_id,
    )


class CustomerFilters(Schema):
    q: str = ""
    stage: str = ""
    tag: str = ""
    owner: int | None = None
    grade: Literal["", "H", "A", "B", "C"] = Field(default="", description="Latest intent grade")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=100)


@router.get("", response=CustomerPage, summary="Search and list customers")
def list_customers(request: ApiRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    """Search by name, pinyin or initials, phone (full or last 4), plate part or VIN suffix.

    Queries: 1 the page of customers with owner, source and tag names, 2
    the count. With a search box query the count comes with the page (no
    second query) unless the page is past the end.
    """
    organization = require(request, Perm.VIEW_CUSTOMERS)
    customers = selectors.customer_list(
        organization=organization,
        q=filters.q,
        stage=filters.stage,
        tag=filters.tag,
        owner_id=filters.owner,
        with_tags=True,
        unread=selectors.LIST_UNREAD,
    )
    if filters.grade:
        customers = customers.filter(intent_grade=filters.grade)
    start = (filters.page - 1) * filters.page_size
    # The page first: a search counts with its page.
    page = list(customers[start : start + filters.page_size])
    count = customers.count()
    return {
        "items": [customer_out(c, request.user) for c in page],
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post("", response={201: CustomerOut}, summary="Register a customer")
def create_customer(request: ApiRequest, payload: CustomerIn) -> Status:
    organization = require(request, Perm.EDIT_CUSTOMERS)
    data = _as_service_data(
        payload.model_dump(exclude_unset=True, exclude={"consents", "consent_method", "consent_purpose"})
    )
    with fields_renamed(REFERRER_FIELD):
        customer = services.customer_create(
            organization=organization,
            by=request.user,
            data=data,
            consents=payload.consents,
            consent_method=payload.consent_method,
            consent_purpose=payload.consent_purpose,
        )
    return Status(201, customer_out(_get_customer(request, customer.pk), request.user))


@router.get("/{customer_id}", response=CustomerOut, summary="Read a customer file")
def get_customer(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    require(request, Perm.VIEW_CUSTOMERS)
    return customer_out(_get_customer(request, customer_id), request.user)


@router.patch("/{customer_id}", response=CustomerOut, summary="Change fields of a customer file")
def patch_customer(request: ApiRequest, customer_id: IdIn, payload: CustomerPatch) -> dict[str, Any]:
    require(request, Perm.EDIT_CUSTOMERS)
    customer = _get_customer(request, customer_id)
    with fields_renamed(REFERRER_FIELD):
        services.customer_update(
            customer=customer, by=request.user, data=_as_service_data(payload.model_dump(exclude_unset=True))
        )
    return customer_out(_get_customer(request, customer_id), request.user)


@router.delete("/{customer_id}", response={204: None}, summary="Delete a customer (soft: nothing is lost)")
def delete_customer(request: ApiRequest, customer_id: IdIn) -> Status:
    require(request, Perm.DELETE_CUSTOMERS)
    services.customer_delete(customer=_get_customer_row(request, customer_id), by=request.user)
    return Status(204, None)


@router.post("/{customer_id}/consents", response=CustomerOut, summary="Record consent given or withdrawn")
def set_consent(request: ApiRequest, customer_id: IdIn, payload: ConsentIn) -> dict[str, Any]:
    require(request, Perm.EDIT_CUSTOMERS)
    customer = _get_customer_row(request, customer_id)
    services.consent_set(customer=customer, by=request.user, **payload.model_dump())
    return customer_out(_get_customer(request, customer_id), request.user)


@router.post("/{customer_id}/household", response=CustomerOut, summary="Link a family member")
def link_household(request: ApiRequest, customer_id: IdIn, payload: HouseholdIn) -> dict[str, Any]:
    require(request, Perm.EDIT_CUSTOMERS)
    customer = _get_customer_row(request, customer_id)
    other = _get_customer_row(request, payload.other_id)
    services.household_link(customer=customer, other=other, by=request.user)
    return customer_out(_get_customer(request, customer_id), request.user)


@router.delete("/{customer_id}/household", response=CustomerOut, summary="Leave the household")
def unlink_household(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    require(request, Perm.EDIT_CUSTOMERS)
    services.household_unlink(customer=_get_customer_row(request, customer_id), by=request.user)
    return customer_out(_get_customer(request, customer_id), request.user)


@router.get("/{customer_id}/history", response=list[ChangeOut], summary="Change history of the file")
def customer_history(request: ApiRequest, customer_id: IdIn) -> list[dict[str, Any]]:
    require(request, Perm.VIEW_CUSTOMERS)
    customer = _get_customer_row(request, customer_id)
    return [
        {
            "at": e.at,
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "action": e.action,
            "changes": e.changes,
            "note": e.note,
            "actor": e.actor.username if e.actor else None,
        }
        for e in history_for_viewer(
            selectors.customer_history(customer=customer, limit=200),
            request.user,
        )
    ]


@router.get("/{customer_id}/vehicles", response=list[VehicleOut], summary="Vehicles of a customer")
def list_vehicles(request: ApiRequest, customer_id: IdIn) -> Any:
    require(request, Perm.VIEW_CUSTOMERS)
    return list(selectors.vehicles_of(customer=_get_customer_row(request, customer_id)))


@router.post("/{customer_id}/vehicles", response={201: VehicleOut}, summary="Register a vehicle")
def create_vehicle(request: ApiRequest, customer_id: IdIn, payload: VehicleIn) -> Status:
    require(request, Perm.EDIT_VEHICLES)
    customer = _get_customer_row(request, customer_id)
    data = payload.model_dump(exclude_unset=True, exclude={"vin_confirmed", "mileage"})
    vehicle = services.vehicle_create(
        customer=customer,
        by=request.user,
        data=data,
        vin_confirmed=payload.vin_confirmed,
        mileage_km=payload.mileage,
    )
    return Status(201, vehicle)
