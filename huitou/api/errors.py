"""How the API answers refused requests: one JSON shape for all of them.

``{"detail": "<summary>", "errors": {"<field>": ["<message>", ...]}}``

422: the input is refused (``errors`` says why, field by field); 409: the input is
fine but the object's state forbids the write (``detail`` says why); 404: no such
object in the caller's organization; 403: the caller's role may not do this.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from huitou.service.errors import RoleRefused, StateConflict


def _field_of(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "__all__"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DjangoValidationError)
    def service_refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        else:
            errors = {"__all__": [str(m) for m in exc.messages]}
        first = next(iter(errors.values()))[0]
        return api.create_response(request, {"detail": first, "errors": errors}, status=422)

    @api.exception_handler(StateConflict)
    def state_conflict(request: HttpRequest, exc: StateConflict) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc.message)}, status=409)

    @api.exception_handler(NinjaValidationError)
    def schema_refused(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        if any(list(err.get("loc", []))[:1] == ["path"] for err in exc.errors):
            # A path id out of range (IdIn) names no object: the same 404 as an unknown one.
            return api.create_response(request, {"detail": _("Not found.")}, status=404)
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            errors.setdefault(_field_of(list(err.get("loc", []))), []).append(str(err.get("msg", "")))
        return api.create_response(
            request, {"detail": _("Some fields are invalid; see errors."), "errors": errors}, status=422
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = exc.message if isinstance(exc, RoleRefused) else _("Your role does not allow this.")
        return api.create_response(request, {"detail": str(detail)}, status=403)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(request, {"detail": _("Sign in or send a valid bearer token.")}, status=401)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, DjangoValidationError):  # TextParser refused the body (ninja says 400)
            return service_refused(request, exc.__cause__)
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


NUL_REFUSED = _("Text cannot contain the NUL character (U+0000).")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class TextParser(Parser):
    """JSON bodies and query strings without NUL characters: no database column holds one
    (PostgreSQL refuses them), so a request carrying one is refused whole (422; ninja wraps a
    body's refusal in a 400, which ``http_error`` turns back into the 422)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if _has_nul(data):
            raise DjangoValidationError({"__all__": [NUL_REFUSED]})
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        parsed = super().parse_querydict(data, list_fields, request)
        if _has_nul(parsed):
            raise DjangoValidationError({"__all__": [NUL_REFUSED]})
        return parsed


@contextmanager
def fields_renamed(names: Mapping[str, str]) -> Iterator[None]:
    """A service's field errors under the names the API's payload uses (``referrer`` → ``referrer_id``).

    Subclasses that carry more than messages (a duplicate found) pass through unchanged.
    """
    try:
        yield
    except DjangoValidationError as exc:
        if type(exc) is not DjangoValidationError or not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError({names.get(f, f): m for f, m in exc.error_dict.items()}) from exc
