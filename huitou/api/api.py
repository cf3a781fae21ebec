"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import orjson
from ninja import NinjaAPI
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

from huitou.api import errors
from huitou.api.auth import BearerToken, StaffSession
from huitou.api.routers.analytics import router as analytics_router
from huitou.api.routers.appointments import router as appointments_router
from huitou.api.routers.catalog import router as catalog_router
from huitou.api.routers.customers import router as customers_router
from huitou.api.routers.exports import router as exports_router
from huitou.api.routers.followup_plans import router as followup_plans_router
from huitou.api.routers.lifecycle import router as lifecycle_router
from huitou.api.routers.loyalty_members import router as loyalty_members_router
from huitou.api.routers.loyalty_referrals import router as loyalty_referrals_router
from huitou.api.routers.loyalty_rewards import router as loyalty_rewards_router
from huitou.api.routers.loyalty_wallet import router as loyalty_wallet_router
from huitou.api.routers.messages import router as messages_router
from huitou.api.routers.orders import router as orders_router
from huitou.api.routers.privacy import router as privacy_router
from huitou.api.routers.vehicles import router as vehicles_router


class JSONRenderer(BaseRenderer):
    """Responses as ninja's own renderer writes them, by orjson: dates, times, decimals and the rest
    through the same encoder (``NinjaJSONEncoder``, Django's ISO 8601 with milliseconds), text as UTF-8
    rather than ``\\u`` escapes, no spaces between items."""

    media_type = "application/json"
    _encoder = NinjaJSONEncoder()

    def render(self, request: Any, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=self._encoder.default, option=_JSON_OPTIONS)


# Datetimes, dates and times go to the encoder as json.dumps sends them; keys as json.dumps writes them.
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class HuitouAPI(NinjaAPI):
    """The API, building its OpenAPI document once per process: the routes never change while it runs."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._openapi_schemas:
            self._openapi_schemas[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return self._openapi_schemas[key]

    @cached_property
    def _openapi_schemas(self) -> dict[tuple[Any, ...], Any]:
        return {}


api = HuitouAPI(
    title="Huitou API",
    version="1",
    description="Customer and vehicle files, the catalog, service orders and appointments of one organization. "
    "Authenticate with `Authorization: Bearer <token>` (create one with `huitou token create <username>`). "
    'Money travels as decimal strings in yuan (`"123.45"`). Text never contains the NUL character (refused, 422). '
    "Each field's schema states the patterns, lengths and ranges the API checks.",
    auth=[BearerToken(), StaffSession()],
    parser=errors.TextParser(),
    renderer=JSONRenderer(),
    urls_namespace="api",
)
errors.install(api)
# Before /customers: its /customers/{customer_id} would otherwise take /customers/merge.
api.add_router("/", lifecycle_router)
api.add_router("/", exports_router)  # /customers/export.xlsx, /orders/export.xlsx, /exports
api.add_router("/", privacy_router)  # /customers/{id}/personal-data, /customers/{id}/erase
# Membership routes carry their whole path (/customers/{id}/membership, /orders/{id}/coupons, /loyalty/...).
api.add_router("/", loyalty_members_router)
api.add_router("/", loyalty_rewards_router)
api.add_router("/", loyalty_wallet_router)
api.add_router("/", loyalty_referrals_router)
api.add_router("/", messages_router)  # /messages, /message-templates
api.add_router("/customers", customers_router)
api.add_router("/followup-plans", followup_plans_router)
api.add_router("/vehicles", vehicles_router)
api.add_router("/catalog", catalog_router)
api.add_router("/orders", orders_router)
api.add_router("/appointments", appointments_router)
api.add_router("/analytics", analytics_router)
api.add_router("/analytics", "huitou.api.routers.analytics_staff.router")  # /analytics/staff
api.add_router("/analytics", "huitou.api.routers.analytics_dashboard.router")  # /analytics/dashboard
api.add_router(
    "/", "huitou.api.routers.analytics_rfm.router"
)  # /analytics/rfm, /analytics/grade-rules, /customers/{id}/grade
api.add_router("/imports", "huitou.api.routers.imports.router")
api.add_router("/care", "huitou.api.routers.care.router")
api.add_router("/complaints", "huitou.api.routers.complaints.router")
api.add_router("/", "huitou.api.routers.care_calendar.router")  # /care/birthdays
api.add_router("/", "huitou.api.routers.segments.router")  # /segments, /segments/{id}, .../customers, .../export
