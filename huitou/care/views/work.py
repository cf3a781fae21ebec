"""The care work list (today / overdue / this week), one task with its forms, and late tasks by staff."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.care import selectors
from huitou.care.forms_work import CareDoneForm, CareSkipForm
from huitou.care.models import CareKind, CareTask
from huitou.care.services.questionnaire import answers_shown, callback_questions
from huitou.care.services.tasks import care_task_done, care_task_skip
from huitou.customers.presentation import visible_phone
from huitou.service.errors import RoleRefused, StateConflict
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.web.forms import apply_errors
from huitou.web.paging import CountedPaginator, team_page
from huitou.web.worklists import work_list_owner

PAGE_SIZE = 20


@staff_required(Perm.FOLLOW_UP)
def care_mine(request: StaffRequest) -> HttpResponse:
    """My open care tasks due today, overdue or this week (the next seven days), oldest first.

    Queries: session, user (+organization), the three tab counts (the
    chosen tab's is the page count), one page of tasks (+customer, vehicle,
    owner), the user's shops (switcher); one more when a store manager
    opens someone else's list.
    """
    org = request.organization
    owner = work_list_owner(request)
    due = request.GET.get("due", "")
    due = due if due in selectors.DUE_CHOICES else selectors.DUE_TODAY
    today = timezone.localdate()
    tasks = selectors.work_list(organization=org, owner_id=owner.pk, due=due, today=today)
    counts = selectors.work_counts(organization=org, owner_id=owner.pk, today=today)
    # The tab's count is the list's: the page needs no COUNT of its own.
    page = CountedPaginator(tasks, PAGE_SIZE, count=counts[due]).get_page(request.GET.get("page"))
    rows = [(task, visible_phone(task.customer, request.user), (today - task.due_on).days) for task in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    query["due"] = due
    tabs = [
        (selectors.DUE_TODAY, _("Today"), counts[selectors.DUE_TODAY]),
        (selectors.DUE_OVERDUE, _("Overdue"), counts[selectors.DUE_OVERDUE]),
        (selectors.DUE_WEEK, _("This week"), counts[selectors.DUE_WEEK]),
    ]
    mine = owner.pk == request.user.pk
    owner_query = "" if mine else f"owner={owner.pk}&"
    context: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "due": due,
        "tabs": tabs,
        "owner": owner,
        "mine": mine,
        "owner_query": owner_query,
        "query": query.urlencode(),
        "back": f"{reverse('care:mine')}?{owner_query}due={due}",
        "today": today,
    }
    if request.htmx:
        return render(request, "care/work_results.html", context)
    return render(request, "care/work_list.html", context)


@staff_required(Perm.VIEW_TEAM_FOLLOWUPS)
def care_team(request: StaffRequest) -> HttpResponse:
    """Per staff member: care tasks overdue (callbacks among them) and due today, and the oldest overdue.

    ``TEAM_PAGE`` people a page (``?page=``; htmx asks for the table alone); the totals are everyone's.
    Queries: session, user (+organization), the counts by staff member, the
    staff members, the user's shops (switcher).
    """
    today = timezone.localdate()
    late = selectors.late_by_staff(organization=request.organization, today=today)
    totals = {
        "overdue": sum(s.overdue for s in late),
        "callbacks": sum(s.callbacks_overdue for s in late),
        "today": sum(s.today for s in late),
    }
    page, rows = team_page(request, late, today)
    context = {"rows": rows, "page": page, "totals": totals, "today": today}
    if request.htmx:
        return render(request, "care/_work_team_table.html", context)
    return render(request, "care/work_team.html", context)


# --- one task: what it is about, and closing it ------------------------------------------------


def _back(request: StaffRequest) -> str:
    """Where to go once the task is closed: the list it was opened from, else my list."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("care:mine")


def _questions(task: CareTask) -> list[Any]:
    if task.kind != CareKind.CALLBACK:
        return []
    return callback_questions(organization=task.organization_id)


def _task_page(
    request: StaffRequest,
    task: CareTask,
    *,
    done_form: CareDoneForm | None = None,
    skip_form: CareSkipForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    open_ = task.state == CareTask.State.OPEN
    context = {
        "task": task,
        "phone": visible_phone(task.customer, request.user),
        "late": (timezone.localdate() - task.due_on).days,
        "done_form": (done_form or CareDoneForm(task=task, questions=_questions(task))) if open_ else None,
        "skip_form": (skip_form or CareSkipForm()) if open_ else None,
        "skip_open": skip_form is not None,
        "answers": answers_shown(organization=task.organization_id, answers=task.answers) if not open_ else [],
        "refusal": refusal,
        "back": _back(request),
        "is_callback": task.kind == CareKind.CALLBACK,
    }
    return render(request, "care/task.html", context)


@staff_required(Perm.FOLLOW_UP)
def task_detail(request: StaffRequest, task_id: int) -> HttpResponse:
    """A task: the customer and car, why and by when, the script, and the forms to close it.

    Queries: session, user (+organization), the task (+customer, vehicle,
    owner), the questionnaire (a callback), the user's shops (switcher).
    """
    return _task_page(request, selectors.task_for_page(organization=request.organization, task_id=task_id))


def _refused(exc: Exception) -> str:
    return str(getattr(exc, "message", exc))


@require_POST
@staff_required(Perm.FOLLOW_UP)
def task_done(request: StaffRequest, task_id: int) -> HttpResponse:
    task = selectors.task_for_page(organization=request.organization, task_id=task_id)
    form = CareDoneForm(request.POST, task=task, questions=_questions(task))
    if form.is_valid():
        try:
            closing = selectors.task_for_closing(organization=request.organization, user=request.user, task_id=task.pk)
            care_task_done(task=closing, by=request.user, **form.service_args())
        except ValidationError as exc:
            apply_errors(form, exc)
        except (RoleRefused, StateConflict) as exc:
            return _task_page(request, task, done_form=form, refusal=_refused(exc))
        else:
            messages.success(request, _("Done: %(customer)s.") % {"customer": task.customer.name})
            return redirect(_back(request))
    return _task_page(request, task, done_form=form)


@require_POST
@staff_required(Perm.FOLLOW_UP)
def task_skip(request: StaffRequest, task_id: int) -> HttpResponse:
    task = selectors.task_for_page(organization=request.organization, task_id=task_id)
    form = CareSkipForm(request.POST)
    if form.is_valid():
        try:
            closing = selectors.task_for_closing(organization=request.organization, user=request.user, task_id=task.pk)
            care_task_skip(task=closing, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        except (RoleRefused, StateConflict) as exc:
            return _task_page(request, task, skip_form=form, refusal=_refused(exc))
        else:
            messages.success(request, _("Skipped: %(customer)s.") % {"customer": task.customer.name})
            return redirect(_back(request))
    return _task_page(request, task, skip_form=form)
