"""Care on other apps' pages: a vehicle's odometer estimate and next maintenance."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("care/_vehicle_outlook.html")
def vehicle_outlook(outlooks: dict[int, Any], vehicle: Any) -> dict[str, Any]:
    """The outlook rows (``<dt>``/``<dd>``) of one vehicle, from ``selectors.vehicle_outlooks`` (no query)."""
    return {"outlook": (outlooks or {}).get(vehicle.pk)}
