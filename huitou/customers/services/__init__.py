"""Writes to customer and vehicle files. Every rule about them lives here.

Callers (pages, API, imports, demo) pass plain values; the services
normalise, validate, write inside one transaction and record the change
history. Refused input raises ``ValidationError`` with per-field messages.

One module per subdomain; the public names are re-exported here, so callers
import them from ``huitou.customers.services``.
"""

from huitou.customers.services._common import _save_unique
from huitou.customers.services.completeness import customer_refresh_completeness
from huitou.customers.services.consent import consent_set
from huitou.customers.services.customers import (
    CUSTOMER_CHOICE_FIELDS,
    CUSTOMER_FIELDS,
    CUSTOMER_HISTORY_FIELDS,
    CUSTOMER_TEXT_FIELDS,
    customer_check,
    customer_create,
    customer_delete,
    customer_restore,
    customer_update,
)
from huitou.customers.services.households import household_link, household_unlink
from huitou.customers.services.mileage import mileage_record
from huitou.customers.services.sources import DEFAULT_SOURCES, sources_seed
from huitou.customers.services.tags import customer_tags_set
from huitou.customers.services.vehicles import (
    VEHICLE_DATE_FIELDS,
    VEHICLE_FIELDS,
    VEHICLE_TEXT_FIELDS,
    vehicle_check,
    vehicle_create,
    vehicle_delete,
    vehicle_transfer,
    vehicle_update,
)

__all__ = [
    "CUSTOMER_CHOICE_FIELDS",
    "CUSTOMER_FIELDS",
    "CUSTOMER_HISTORY_FIELDS",
    "CUSTOMER_TEXT_FIELDS",
    "DEFAULT_SOURCES",
    "VEHICLE_DATE_FIELDS",
    "VEHICLE_FIELDS",
    "VEHICLE_TEXT_FIELDS",
    "_save_unique",
    "consent_set",
    "customer_check",
    "customer_create",
    "customer_delete",
    "customer_refresh_completeness",
    "customer_restore",
    "customer_tags_set",
    "customer_update",
    "household_link",
    "household_unlink",
    "mileage_record",
    "sources_seed",
    "vehicle_check",
    "vehicle_create",
    "vehicle_delete",
    "vehicle_transfer",
    "vehicle_update",
]
