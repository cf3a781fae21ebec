"""Odometer readings: each one no lower than the one before, unless the odometer was replaced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers import errors
from huitou.customers.models import (
    MileageReading,
    Vehicle,
)
from huitou.customers.services._common import _as_int, _Errors
from huitou.tenancy.models import User


def mileage_record(
    *,
    vehicle: Vehicle,
    km: Any,
    by: User | None,
    read_at: dt.datetime | None = None,
    odometer_replaced: bool = False,
    source: str = MileageReading.Source.MANUAL,
    now: dt.datetime | None = None,
) -> MileageReading:
    """Add an odometer reading. A reading lower than the one before it is
    refused unless it is marked as an odometer replacement."""
    errs = _Errors()
    value = _as_int(km, "km", errs, errors.MILEAGE_INVALID)
    if value is None and "km" not in errs:
        errs.add("km", errors.MILEAGE_INVALID)
    if value is not None and not 0 <= value <= 5_000_000:
        errs.add("km", errors.MILEAGE_INVALID)
    now = now or timezone.now()
    read_at = read_at or now
    if read_at > now + dt.timedelta(minutes=5):
        errs.add("read_at", errors.MILEAGE_FUTURE)
    errs.raise_if_any()
    assert value is not None
    with transaction.atomic():
        locked = Vehicle.objects.for_org(vehicle.organization_id).select_for_update().get(pk=vehicle.pk)
        readings = MileageReading.objects.for_org(vehicle.organization_id).filter(vehicle=vehicle)
        previous = readings.filter(read_at__lte=read_at).order_by("-read_at", "-pk").first()
        following = readings.filter(read_at__gt=read_at).order_by("read_at", "pk").first()
        if not odometer_replaced:
            if previous is not None and value < previous.km:
                raise ValidationError({"km": [errors.MILEAGE_LOWER % {"km": value, "previous": previous.km}]})
            if following is not None and not following.odometer_replaced and value > following.km:
                raise ValidationError({"km": [errors.MILEAGE_HIGHER_THAN_LATER % {"km": value, "later": following.km}]})
        reading = MileageReading.objects.create(
            organization_id=vehicle.organization_id,
            vehicle=vehicle,
            km=value,
            read_at=read_at,
            odometer_replaced=odometer_replaced,
            source=source,
            recorded_by=by,
        )
        if following is None:
            locked.mileage_km, locked.mileage_at = value, read_at
            locked.save(update_fields=["mileage_km", "mileage_at"])
            vehicle.mileage_km, vehicle.mileage_at = value, read_at
        change_record(
            organization_id=vehicle.organization_id,
            subject=vehicle,
            action=ChangeEntry.Action.MILEAGE,
            actor=by,
            customer_id=vehicle.customer_id,
            changes={"km": [previous.km if previous else None, value]},
            at=now,
            note="odometer replaced" if odometer_replaced else "",
        )
    return reading
