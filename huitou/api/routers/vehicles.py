from __future__ import annotations

from typing import Any

from ninja import Router, Status

from huitou.api.care_schemas import VehicleOutlookOut
from huitou.api.permissions import require
from huitou.api.schemas import MileageIn, ReadingOut, TransferIn, VehicleOut, VehiclePatch
from huitou.api.service_schemas import IdIn
from huitou.care import selectors as care_selectors
from huitou.customers import selectors, services
from huitou.customers.models import Customer, Vehicle
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["vehicles"])


def _get_vehicle(request: ApiRequest, vehicle_id: int) -> Vehicle:
    return get_scoped_or_404(
        Vehicle.objects.active().select_related("customer"),
        request.organization,
        pk=vehicle_id,
    )


@router.get("/{vehicle_id}", response=VehicleOutlookOut, summary="Read a vehicle with its mileage readings")
def get_vehicle(request: ApiRequest, vehicle_id: IdIn) -> Any:
    """With the odometer estimated for today and the next maintenance due (care's outlook).

    Queries: 1 the vehicle with its owner and next maintenance (subqueries), 1 its readings.
    """
    organization = require(request, Perm.VIEW_CUSTOMERS)
    vehicles = care_selectors.with_next_maintenance(
        Vehicle.objects.active().select_related("customer"), organization=organization
    )
    vehicle = get_scoped_or_404(vehicles, organization, pk=vehicle_id)
    fields = {f: getattr(vehicle, f) for f in VehicleOut.model_fields}
    readings = list(selectors.vehicle_readings(vehicle=vehicle))
    seen = care_selectors.outlook(
        readings, purchase_date=vehicle.purchase_date, next_maintenance=care_selectors.annotated_next(vehicle)
    )
    upcoming = vars(seen.next) if seen.next is not None else None
    return {**fields, "readings": readings, "estimated_mileage": seen.estimated_km, "next_maintenance": upcoming}


@router.patch("/{vehicle_id}", response=VehicleOut, summary="Change a vehicle")
def patch_vehicle(request: ApiRequest, vehicle_id: IdIn, payload: VehiclePatch) -> Any:
    require(request, Perm.EDIT_VEHICLES)
    vehicle = _get_vehicle(request, vehicle_id)
    data = payload.model_dump(exclude_unset=True, exclude={"vin_confirmed"})
    return services.vehicle_update(vehicle=vehicle, by=request.user, data=data, vin_confirmed=payload.vin_confirmed)


@router.delete("/{vehicle_id}", response={204: None}, summary="Delete a vehicle (soft)")
def delete_vehicle(request: ApiRequest, vehicle_id: IdIn) -> Status:
    require(request, Perm.EDIT_VEHICLES)
    services.vehicle_delete(vehicle=_get_vehicle(request, vehicle_id), by=request.user)
    return Status(204, None)


@router.post("/{vehicle_id}/mileage", response={201: ReadingOut}, summary="Record an odometer reading")
def record_mileage(request: ApiRequest, vehicle_id: IdIn, payload: MileageIn) -> Status:
    require(request, Perm.RECORD_MILEAGE)
    vehicle = _get_vehicle(request, vehicle_id)
    reading = services.mileage_record(
        vehicle=vehicle,
        km=payload.km,
        read_at=payload.read_at,
        odometer_replaced=payload.odometer_replaced,
        by=request.user,
    )
    return Status(201, reading)


@router.post("/{vehicle_id}/transfer", response=VehicleOut, summary="Hand the vehicle to another customer")
def transfer_vehicle(request: ApiRequest, vehicle_id: IdIn, payload: TransferIn) -> Any:
    organization = require(request, Perm.EDIT_VEHICLES)
    vehicle = _get_vehicle(request, vehicle_id)
    to_customer = get_scoped_or_404(Customer.objects.active(), organization, pk=payload.customer_id)
    return services.vehicle_transfer(vehicle=vehicle, to_customer=to_customer, by=request.user)
