"""Consent per channel (personal-information law), recorded with its purpose and method."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers import errors
from huitou.customers.models import (
    Channel,
    ConsentRecord,
    Customer,
)
from huitou.customers.services._common import _Errors
from huitou.customers.services.completeness import customer_refresh_completeness
from huitou.tenancy.models import User


def consent_set(
    *,
    customer: Customer,
    channel: str,
    granted: bool,
    method: str,
    purpose: str,
    by: User | None,
    now: dt.datetime | None = None,
) -> ConsentRecord:
    """Record consent given or withdrawn for one channel (personal-information law)."""
    errs = _Errors()
    if channel not in Channel.values:
        errs.add("channel", errors.CHOICE_INVALID)
    if method not in ConsentRecord.Method.values:
        errs.add("method", errors.CHOICE_INVALID)
    if not (purpose or "").strip():
        errs.add("purpose", errors.CONSENT_PURPOSE_REQUIRED)
    errs.raise_if_any()
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            organization_id=customer.organization_id,
            customer=customer,
            channel=channel,
            granted=granted,
            method=method,
            purpose=purpose.strip()[:200],
            at=now or timezone.now(),
            recorded_by=by,
        )
        field = f"consent_{channel}"
        before = getattr(customer, field)
        setattr(customer, field, granted)
        Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(**{field: granted})
        change_record(
            organization_id=customer.organization_id,
            subject=customer,
            action=ChangeEntry.Action.CONSENT,
            actor=by,
            customer_id=customer.pk,
            changes={field: [before, granted], "method": [None, method], "purpose": [None, record.purpose]},
            at=record.at,
        )
        customer_refresh_completeness(customer=customer)
    return record
