"""/api/v1/customers/{customer_id}: personal-data rights under the personal-information law (PIPL).

- ``GET .../personal-data``: everything kept about the customer (the file and the duplicates
  merged into it) as JSON, by kind (``privacy.copy``: store manager, service advisor);
- ``POST .../erase`` ``{"reason"}``: anonymise the person for good (``privacy.erase``: store
  manager only). Orders, payments, visits and totals stay under the tombstone 已注销客户.

A deleted file still holds personal data, so both work on deleted files too; another
organization's customer answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.service_schemas import IdIn
from huitou.customers.models import Customer
from huitou.privacy import services
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["personal data"])


class PersonalDataOut(Schema):
    format: str = Field(description='"huitou.personal-data/1"')
    made_at: dt.datetime
    organization: str = Field(description="The organization keeping the data")
    customer_id: int
    kinds: dict[str, list[dict[str, Any]]] = Field(
        description="Rows by kind: profile, vehicles, mileage_readings, vehicle_ownerships, consents, orders, "
        "order_lines, payments, adjustments, recommendations, appointments, follow_ups, follow_up_tasks, "
        "stage_changes, history, and the kinds other apps register (an empty list when nothing is kept). "
        "Money as decimal text, moments in ISO 8601."
    )


class EraseIn(Schema):
    reason: str = Field(max_length=200, description="Why (the customer's request, its date); blank is refused (422)")


class ErasureOut(Schema):
    customer_id: int
    erased_at: dt.datetime
    by: int | None = Field(description="The staff member's id (empty: the retention rule)")
    reason: str = Field(description="The reason, without the person's identifiers")
    files: int = Field(description="Files erased: the file and the duplicates merged into it")


def _customer(request: ApiRequest, perm: str, customer_id: int) -> Customer:
    organization = require(request, perm)
    return get_scoped_or_404(Customer.objects.select_related("organization"), organization, pk=customer_id)


@router.get("/customers/{customer_id}/personal-data", response=PersonalDataOut, summary="A copy of a customer's data")
def personal_data(request: ApiRequest, customer_id: IdIn) -> dict[str, Any]:
    customer = _customer(request, Perm.COPY_PERSONAL_DATA, customer_id)
    return services.personal_data_copy(customer=customer, by=request.user)


@router.post("/customers/{customer_id}/erase", response=ErasureOut, summary="Erase a customer's personal data")
def erase(request: ApiRequest, customer_id: IdIn, payload: EraseIn) -> dict[str, Any]:
    """Irreversible. 422 when the reason is missing or the customer is already erased."""
    customer = _customer(request, Perm.ERASE_CUSTOMERS, customer_id)
    erasure = services.customer_erase(customer=customer, by=request.user, reason=payload.reason)
    return {
        "customer_id": erasure.customer_id,
        "erased_at": erasure.at,
        "by": erasure.by_id,
        "reason": erasure.reason,
        "files": erasure.files,
    }
