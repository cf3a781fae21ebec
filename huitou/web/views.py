from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from huitou.service.views.appointments import todays_arrivals
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.middleware import SHOP_SESSION_KEY
from huitou.tenancy.selectors import shops_for_user
from huitou.web.selectors import home_summary

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health check: database unreachable: %s", exc)
        return JsonResponse({"status": "error", "database": f"unreachable: {exc.__class__.__name__}"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@staff_required()
def home(request: StaffRequest) -> HttpResponse:
    summary = home_summary(organization=request.organization, user=request.user)
    arrivals = todays_arrivals(request)  # today's appointments at the current shop (one query)
    return render(request, "web/home.html", {"summary": summary, "arrivals": arrivals})


@require_POST
@staff_required()
def switch_shop(request: StaffRequest) -> HttpResponse:
    wanted = request.POST.get("shop")
    for shop in shops_for_user(request.user):
        if str(shop.pk) == wanted:
            request.session[SHOP_SESSION_KEY] = shop.pk
    return redirect(request.POST.get("next") or "web:home")
