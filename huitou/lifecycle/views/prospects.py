"""Prospect pages: quick capture at the counter, on the phone or at an event, and the prospect list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from huitou.customers.models import Customer, IntentGrade, Stage, Vehicle
from huitou.customers.presentation import visible_phone
from huitou.customers.selectors import customer_list, sources_for
from huitou.customers.services import customer_check
from huitou.lifecycle import selectors
from huitou.lifecycle.forms import ME, ProspectForm
from huitou.lifecycle.services.prospects import DuplicateFound, duplicates_find, prospect_capture
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.selectors import staff_for_org
from huitou.web.forms import apply_errors
from huitou.web.paging import CappedPaginator

PROSPECTS_PER_PAGE = 20
REFERRER_MATCHES = 8
# The fields of a capture that the customer file's own rules check.
FILE_FIELDS = ("name", "phone", "wechat", "source", "need", "referrer")


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- the list --------------------------------------------------------------------------------


def _sees_the_team(user: User) -> bool:
    """Managers (and those who follow up nobody) start with everyone's prospects; the rest with their own."""
    return user.has_role_perm(Perm.VIEW_TEAM_FOLLOWUPS) or not user.has_role_perm(Perm.FOLLOW_UP)


@staff_required(Perm.VIEW_CUSTOMERS)
def prospect_list(request: StaffRequest) -> HttpResponse:
    """Prospects and intent customers with their source, need, grade, owner and next follow-up.

    Queries: session, user (+organization), count, one page of prospects
    with owner, source and the next open task's day (a subquery); for the
    full page the filter choices (sources, staff) and the user's shops.
    """
    org = request.organization
    user: User = request.user
    params = request.GET
    # No owner in the query: the default (one's own, or everyone's); an empty one: everyone's.
    owner = params.get("owner")
    if owner is None:
        owner = "" if _sees_the_team(user) else str(user.pk)
    filters: dict[str, Any] = {
        "stage": params.get("stage", "") if params.get("stage") in (Stage.PROSPECT, Stage.INTENT) else "",
        "source": params.get("source", "")[:40],
        "owner_id": _int_or_none(owner),
        "grade": params.get("grade", "") if params.get("grade") in IntentGrade.values else "",
    }
    prospects = selectors.with_next_due(selectors.prospects_list(organization=org, **filters), organization=org)
    page = CappedPaginator(prospects, PROSPECTS_PER_PAGE).get_page(params.get("page"))
    rows = [(c, visible_phone(c, user)) for c in page.object_list]
    query = params.copy()
    query.pop("page", None)
    query.setdefault("owner", owner)
    context: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "query": query.urlencode(),
        "today": timezone.localdate(),
    }
    if request.htmx:
        return render(request, "lifecycle/_prospect_results.html", context)
    context.update(
        stages=[(s.value, s.label) for s in (Stage.PROSPECT, Stage.INTENT)],
        sources=list(sources_for(org)),
        staff=staff_for_org(org),
        grades=IntentGrade.choices,
    )
    return render(request, "lifecycle/prospect_list.html", context)


# --- quick capture ---------------------------------------------------------------------------


def _referrer_choices(request: StaffRequest, q: str, chosen_id: int | None) -> dict[str, Any]:
    """Customers to choose the referrer from: those matching ``q``, and the one already chosen.

    Both through the organization's customer list, so an id of another
    organization finds nobody.
    """
    org = request.organization
    vehicles = Prefetch("vehicles", queryset=Vehicle.objects.active().order_by("pk"), to_attr="active_vehicles")
    found: list[Customer] = []
    if q:
        found = list(customer_list(organization=org, q=q).prefetch_related(vehicles)[:REFERRER_MATCHES])
    if chosen_id is not None and all(c.pk != chosen_id for c in found):
        chosen = customer_list(organization=org).filter(pk=chosen_id).prefetch_related(vehicles).first()
        if chosen is not None:
            found.insert(0, chosen)
    return {
        "referrer_results": [(c, visible_phone(c, request.user)) for c in found],
        "referrer_q": q,
        "referrer_chosen": chosen_id,
    }


@staff_required(Perm.CAPTURE_PROSPECTS)
def referrer_pick(request: StaffRequest) -> HttpResponse:
    """The referrer choices of the capture form for what was typed (htmx)."""
    q = request.GET.get("referrer_q", "").strip()[:50]
    context = _referrer_choices(request, q, _int_or_none(request.GET.get("referrer")))
    return render(request, "lifecycle/_referrer_choices.html", context)


@staff_required(Perm.CAPTURE_PROSPECTS)
def prospect_new(request: StaffRequest) -> HttpResponse:
    """Quick capture: a prospect in a few fields; a phone or plate already on file links to that file.

    "Search" next to the referrer (without JavaScript) sends the form back
    with the matching customers to choose from, saving nothing.
    """
    org = request.organization
    user: User = request.user
    initial = {"owner": ME, "source": request.GET.get("source", "")}
    searching = request.method == "POST" and "find_referrer" in request.POST
    if request.method == "POST" and not searching:
        form = ProspectForm(request.POST, organization_id=org.pk, user=user, initial=initial)
    else:
        data = request.POST.dict() if searching else {}
        form = ProspectForm(organization_id=org.pk, user=user, initial={**initial, **data})
    duplicates: list[Customer] = []
    if request.method == "POST" and not searching:
        if form.is_valid():
            try:
                customer = prospect_capture(organization=org, by=user, data=form.service_data())
            except DuplicateFound as exc:
                duplicates = exc.duplicates
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Prospect %(name)s captured.") % {"name": customer.name})
                return redirect(customer)
        else:
            # Every problem at once: the file's own rules on what the form could read,
            # and the files that already have this phone or plate.
            data = {f: form.cleaned_data[f] for f in FILE_FIELDS if f in form.cleaned_data}
            apply_errors(form, customer_check(organization=org, data=data))
            found = duplicates_find(
                organization=org, phone=request.POST.get("phone", ""), plate=request.POST.get("plate", "")
            )
            duplicates = list(dict.fromkeys(found.values()))
    source = request.POST if request.method == "POST" else request.GET
    q = source.get("referrer_q", "").strip()[:50]
    context = {
        "form": form,
        "duplicates": duplicates,
        **_referrer_choices(request, q, _int_or_none(source.get("referrer"))),
    }
    return render(request, "lifecycle/prospect_form.html", context)
