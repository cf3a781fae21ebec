"""Answers for a database that stays busy: 503 with a message, not a server error.

SQLite (the embedded default under ``huitou serve``) lets one writer at a
time: the others wait for it (``busy_timeout`` in the settings; write
transactions begin IMMEDIATE so they queue at their start instead of failing
half-way). A writer that waits longer than that gets ``OperationalError:
database is locked``. Nothing was written (the transaction rolled back), so
the honest answer is "busy, try again": 503 with ``Retry-After``, as JSON
(``{"detail": ...}``, the API's error shape) under /api/ and as a short page
elsewhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"


def database_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" (or "database table is locked"): another writer held on too long."""
    text = str(exc)
    return isinstance(exc, OperationalError) and text.startswith("database") and text.endswith("is locked")


def busy_message() -> str:
    return _("The database is busy with another change; please try again in a moment.")


class DatabaseBusyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_busy(exception):
            return None
        logger.warning("Database busy: %s %s answered 503 (%s)", request.method, request.path, exception)
        message = busy_message()
        if request.path.startswith(API_PREFIX):
            response = HttpResponse(
                json.dumps({"detail": message}, ensure_ascii=False),
                status=503,
                content_type="application/json; charset=utf-8",
            )
        else:
            response = HttpResponse(render_to_string("web/busy.html", {"message": message}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
