"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from ninja import NinjaAPI

from huitou.api import errors
from huitou.api.auth import BearerToken, StaffSession
from huitou.api.routers.customers import router as customers_router
from huitou.api.routers.vehicles import router as vehicles_router

api = NinjaAPI(
    title="Huitou API",
    version="1",
    description="Customer and vehicle files of one organization. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `huitou token create <username>`).",
    auth=[BearerToken(), StaffSession()],
    urls_namespace="api",
)
errors.install(api)
api.add_router("/customers", customers_router)
api.add_router("/vehicles", vehicles_router)
