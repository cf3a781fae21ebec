"""Follow-up work lists, the manager's backlog view, and handing customers over when staff leave."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from huitou.customers.models import Customer
from huitou.customers.presentation import visible_phone
from huitou.lifecycle import selectors
from huitou.lifecycle.forms_work import HandOverForm, RotationForm
from huitou.lifecycle.models import FollowUpTask
from huitou.lifecycle.services.ownership import rotation_set, staff_deactivate_refusal, staff_hand_over
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.tenancy.selectors import staff_for_org
from huitou.web.forms import apply_errors
from huitou.web.paging import CountedPaginator, team_page
from huitou.web.worklists import work_list_owner

PAGE_SIZE = 20


@staff_required(Perm.FOLLOW_UP)
def followups_mine(request: StaffRequest) -> HttpResponse:
    """My follow-ups due today, overdue or upcoming, oldest first.

    Queries: session, user (+organization), the three tab counts (the
    chosen tab's is the page count), one page of tasks (+customer,
    assignee), the user's shops (switcher); one more when a store manager
    opens someone else's list.
    """
    org = request.organization
    assignee = work_list_owner(request)
    due = request.GET.get("due", "")
    due = due if due in selectors.DUE_CHOICES else selectors.DUE_TODAY
    today = timezone.localdate()
    tasks = selectors.tasks_due(organization=org, due=due, assignee_id=assignee.pk, today=today)
    counts = selectors.task_counts(organization=org, assignee_id=assignee.pk, today=today)
    # The tab's count is the list's: the page needs no COUNT of its own.
    page = CountedPaginator(tasks, PAGE_SIZE, count=counts[due]).get_page(request.GET.get("page"))
    rows = [(task, visible_phone(task.customer, request.user), (today - task.due_on).days) for task in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    query["due"] = due
    tabs = [
        (selectors.DUE_TODAY, _("Today"), counts["today"]),
        (selectors.DUE_OVERDUE, _("Overdue"), counts["overdue"]),
        (selectors.DUE_UPCOMING, _("Upcoming"), counts["upcoming"]),
    ]
    context: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "due": due,
        "tabs": tabs,
        "assignee": assignee,
        "mine": assignee.pk == request.user.pk,
        "owner_query": "" if assignee.pk == request.user.pk else f"owner={assignee.pk}&",
        "query": query.urlencode(),
        "today": today,
    }
    if request.htmx:
        return render(request, "lifecycle/work_results.html", context)
    return render(request, "lifecycle/work_list.html", context)


@staff_required(Perm.VIEW_TEAM_FOLLOWUPS)
def followups_team(request: StaffRequest) -> HttpResponse:
    """Per staff member: follow-ups overdue and due today, and the oldest overdue.

    ``TEAM_PAGE`` people a page (``?page=``; htmx asks for the table alone); the totals are everyone's.
    Queries: session, user (+organization), the counts by staff member, the
    staff members, the user's shops (switcher).
    """
    today = timezone.localdate()
    backlog = selectors.backlog_by_staff(organization=request.organization, today=today)
    totals = {"overdue": sum(b.overdue for b in backlog), "today": sum(b.today for b in backlog)}
    page, rows = team_page(request, backlog, today)
    context = {"rows": rows, "page": page, "totals": totals, "today": today}
    if request.htmx:
        return render(request, "lifecycle/_work_team_table.html", context)
    return render(request, "lifecycle/work_team.html", context)


# --- staff who leave: their customers and follow-ups go to others ---------------------------


def _member(request: StaffRequest, user_id: int) -> User:
    return get_scoped_or_404(User.objects.all(), request.organization, pk=user_id)


def _takers(request: StaffRequest, member: User) -> list[User]:
    """Active staff who can take the member's customers: everyone else."""
    return [u for u in staff_for_org(request.organization) if u.pk != member.pk]


def _load(request: StaffRequest, member: User) -> dict[str, int]:
    """How many customer files (deleted ones too: they move as well) and open follow-ups the member has."""
    org = request.organization
    return {
        "customers": Customer.objects.for_org(org).filter(owner=member).count(),
        "tasks": FollowUpTask.objects.for_org(org).filter(assignee=member, closed_at=None).count(),
    }


@staff_required(Perm.MANAGE_STAFF)
def staff_deactivate_page(request: StaffRequest, user_id: int) -> HttpResponse:
    """A staff member leaves: who takes their customers, then they can no longer sign in."""
    member = _member(request, user_id)
    if not member.is_active:
        messages.info(request, _("%(name)s is already deactivated.") % {"name": member})
        return redirect("tenancy:staff_edit", member.pk)
    form = HandOverForm(request.POST if request.method == "POST" else None, staff=_takers(request, member))
    # Shown before anything is chosen; the service checks it again.
    refusal = str(staff_deactivate_refusal(user=member, by=request.user) or "")
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            moved = staff_hand_over(user=member, to_user_ids=form.cleaned_data["to"], by=request.user, leaving=True)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is deactivated; %(count)d customers were handed over.") % {"name": member, "count": moved},
            )
            return redirect("tenancy:staff_list")
    context = {"member": member, "form": form, "load": _load(request, member), "refusal": refusal}
    return render(request, "lifecycle/staff_deactivate.html", context)


@staff_required(Perm.REASSIGN_CUSTOMERS)
def staff_reassign_page(request: StaffRequest, user_id: int) -> HttpResponse:
    """Hand all of a staff member's customers and their open follow-ups to others, evenly."""
    member = _member(request, user_id)
    form = HandOverForm(request.POST if request.method == "POST" else None, staff=_takers(request, member))
    if request.method == "POST" and form.is_valid():
        try:
            moved = staff_hand_over(user=member, to_user_ids=form.cleaned_data["to"], by=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(count)d customers of %(name)s were handed over.") % {"name": member, "count": moved},
            )
            return redirect("tenancy:staff_edit", member.pk)
    return render(
        request, "lifecycle/staff_reassign.html", {"member": member, "form": form, "load": _load(request, member)}
    )


@staff_required(Perm.MANAGE_STAFF)
def rotation_edit(request: StaffRequest) -> HttpResponse:
    """Choose the staff who take new prospects in turn (round robin)."""
    org = request.organization
    staff = list(staff_for_org(org))
    initial = {"members": [u.pk for u in selectors.rotation_members(organization=org)]}
    form = RotationForm(request.POST if request.method == "POST" else None, staff=staff, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rotation_set(organization=org, member_ids=form.cleaned_data["members"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("tenancy:staff_list")
    return render(request, "lifecycle/staff_rotation.html", {"form": form})
