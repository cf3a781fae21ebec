"""Messaging pages: the outbox, the send form from the customer file, the template library with its
live preview, settings and bulk sends. Views convert input and show the services' answers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huitou.analytics.selectors import segments_list
from huitou.customers.models import Customer
from huitou.messaging.forms import BulkForm, OutboxFilters, SendForm, SettingsForm, TemplateForm
from huitou.messaging.models import BulkSend, Message, MessageTemplate, State
from huitou.messaging.placeholders import body_check
from huitou.messaging.selectors import bulk_sends, message_templates, messaging_settings, outbox
from huitou.messaging.services.bulk import bulk_send_start
from huitou.messaging.services.send import message_mark_sent, message_preview, message_send
from huitou.messaging.services.templates import message_template_save, messaging_settings_save
from huitou.service.errors import StateConflict
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404
from huitou.web.forms import apply_errors
from huitou.web.paging import CappedPaginator

PAGE = 30


# --- the outbox -----------------------------------------------------------------------------------


@staff_required(Perm.FOLLOW_UP)
def outbox_list(request: StaffRequest) -> HttpResponse:
    """Messages newest first, filtered by state, channel, purpose or one customer; manual ones to copy
    and mark sent. Queries: session, user (+organization), the count (capped), the page (+customer,
    template, staff), the shops; with ``customer``: that customer."""
    form = OutboxFilters(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    customer = None
    if filters.get("customer"):
        customer = get_scoped_or_404(Customer.objects.all(), request.organization, pk=filters["customer"])
    rows = outbox(
        organization=request.organization,
        customer_id=customer.pk if customer else None,
        state=filters.get("state") or "",
        channel=filters.get("channel") or "",
        purpose=filters.get("purpose") or "",
    )
    page = CappedPaginator(rows, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "form": form, "customer": customer, "query": query.urlencode(), "now": timezone.now()}
    template = "messaging/_outbox_rows.html" if request.htmx and request.htmx.target == "results" else None
    return render(request, template or "messaging/outbox.html", context)


@require_POST
@staff_required(Perm.FOLLOW_UP)
def mark_sent(request: StaffRequest, message_id: int) -> HttpResponse:
    """Staff copied a manual message and sent it; htmx gets the row back, a plain form the outbox."""
    message = get_scoped_or_404(
        Message.objects.select_related("customer", "template"), request.organization, pk=message_id
    )
    try:
        message = message_mark_sent(message=message, by=request.user)
    except StateConflict as exc:
        if request.htmx:
            return render(request, "messaging/_outbox_row.html", {"m": message, "error": exc.message})
        messages.error(request, str(exc.message))
    else:
        message.sent_by = request.user
        if request.htmx:
            return render(request, "messaging/_outbox_row.html", {"m": message})
        messages.success(request, _("Marked sent."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("messaging:outbox")


# --- sending from the customer file --------------------------------------------------------------


def _templates(request: StaffRequest) -> list[MessageTemplate]:
    return list(message_templates(organization=request.organization, active_only=True))


@staff_required(Perm.FOLLOW_UP)
def send_page(request: StaffRequest, customer_id: int) -> HttpResponse:
    """Send one message to a customer: a template or one's own text, by hand, SMS or email, with the
    text as the customer will read it. The answer says whether it is queued, held or refused, and why."""
    customer = get_scoped_or_404(
        Customer.objects.active().select_related("organization"), request.organization, pk=customer_id
    )
    templates = _templates(request)
    # ?template= names a template by id, or by its code (a care task asks for the text of its kind).
    wanted = request.GET.get("template", "")
    by_code = {t.code: str(t.pk) for t in templates}
    form = SendForm(request.POST or None, templates=templates, initial={"template": by_code.get(wanted, wanted)})
    if request.method == "POST" and form.is_valid():
        try:
            message = message_send(customer=customer, by=request.user, **form.service_args())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            _say_what_became_of(request, message)
            return redirect(f"{reverse('messaging:outbox')}?customer={customer.pk}")
    return render(
        request,
        "messaging/send.html",
        {"form": form, "customer": customer, "templates": templates, "preview": _first_preview(form, customer)},
    )


def _first_preview(form: SendForm, customer: Customer) -> str:
    template = form.templates.get(str(form["template"].value() or ""))
    return message_preview(body=template.body, customer=customer) if template is not None else ""


def _say_what_became_of(request: StaffRequest, message: Message) -> None:
    name = message.customer.name
    if message.state == State.REFUSED:
        messages.error(
            request, _("Not sent to %(name)s: %(reason)s") % {"name": name, "reason": message.get_reason_display()}
        )
    elif message.state == State.HELD:
        until = timezone.localtime(message.next_attempt_at).strftime("%H:%M") if message.next_attempt_at else ""
        text = _("Quiet hours: the message to %(name)s waits until %(time)s.")
        messages.warning(request, text % {"name": name, "time": until})
    elif message.channel == "manual":
        messages.success(request, _("Ready: copy it to %(name)s on WeChat, then mark it sent.") % {"name": name})
    else:
        messages.success(request, _("Queued for %(name)s; it goes out in a moment.") % {"name": name})


@require_POST
@staff_required(Perm.FOLLOW_UP)
def preview(request: StaffRequest) -> HttpResponse:
    """The text as the customer will read it (htmx, on every keystroke): a template or a text, filled
    from a customer's file when one is named, else with sample values. Unknown placeholders are named."""
    data = request.POST
    customer = None
    if (customer_id := data.get("customer", "")).isdigit():
        customer = Customer.objects.for_org(request.organization).filter(pk=int(customer_id)).first()
    body, error = data.get("body", ""), ""
    template_id = data.get("template", "")
    if template_id.isdigit() and not body.strip():
        found = MessageTemplate.objects.for_org(request.organization).filter(pk=int(template_id)).first()
        body = found.body if found is not None else ""
    text = ""
    if body.strip():
        try:
            body = body_check(body)
        except ValidationError as exc:
            error = " ".join(exc.message_dict["body"])
        else:
            given = {k: data.get(k, "") for k in SendForm.VALUES if data.get(k)}
            text = message_preview(body=body, customer=customer, given=given)
    return render(request, "messaging/_preview.html", {"text": text, "error": error})


# --- the template library ------------------------------------------------------------------------


@staff_required(Perm.FOLLOW_UP)
def template_list(request: StaffRequest) -> HttpResponse:
    """Queries: session, user (+organization), the templates, the shops."""
    templates = list(message_templates(organization=request.organization))
    for t in templates:
        t.preview = message_preview(body=t.body)  # type: ignore[attr-defined]
    return render(request, "messaging/templates.html", {"templates": templates})


def _template_edit(request: StaffRequest, template: MessageTemplate | None) -> HttpResponse:
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                saved = message_template_save(
                    organization=request.organization, data=form.cleaned_data, template=template
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s saved.") % {"name": saved.name})
                return redirect("messaging:templates")
    elif template is None:
        form = TemplateForm(initial={"purpose": "service", "is_active": True})
    else:
        form = TemplateForm(initial={f: getattr(template, f) for f in TemplateForm.base_fields})
    body = str(form["body"].value() or "")
    first = ""
    if body.strip():
        try:
            first = message_preview(body=body_check(body))
        except ValidationError:
            first = ""
    return render(request, "messaging/template_form.html", {"form": form, "template": template, "preview": first})


@staff_required(Perm.MANAGE_SETTINGS)
def template_new(request: StaffRequest) -> HttpResponse:
    return _template_edit(request, None)


@staff_required(Perm.MANAGE_SETTINGS)
def template_edit(request: StaffRequest, message_template_id: int) -> HttpResponse:
    template = get_scoped_or_404(MessageTemplate.objects.all(), request.organization, pk=message_template_id)
    return _template_edit(request, template)


# --- settings -------------------------------------------------------------------------------------


@staff_required(Perm.MANAGE_SETTINGS)
def settings_page(request: StaffRequest) -> HttpResponse:
    """Quiet hours, the weekly cap of marketing messages, the SMS signature."""
    current = messaging_settings(organization=request.organization)
    initial = {f: getattr(current, f) for f in SettingsForm.base_fields}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            messaging_settings_save(organization=request.organization, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Message settings saved."))
            return redirect("messaging:settings")
    return render(request, "messaging/settings.html", {"form": form})


# --- bulk sends -----------------------------------------------------------------------------------


@staff_required(Perm.MANAGE_SETTINGS)
def bulk_new(request: StaffRequest) -> HttpResponse:
    """One template to the customers of a saved segment, a stage or a tag; the messages are made in the
    background. Opened from a segment's page (``?segment=``), the form starts with that segment."""
    templates = _templates(request)
    segments = list(segments_list(organization=request.organization))
    initial = {"segment": request.GET.get("segment", "")}
    form = BulkForm(request.POST or None, templates=templates, segments=segments, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bulk = bulk_send_start(
                organization=request.organization,
                template=form.templates[data["template"]],
                channel=data["channel"],
                filters={
                    "stage": data.get("stage"),
                    "tag": data.get("tag"),
                    "segment": form.segments.get(data.get("segment") or ""),
                },
                values={k: data[k] for k in ("service", "due_date", "coupon") if data.get(k)},
                by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("messaging:bulk_detail", bulk.pk)
    recent = list(bulk_sends(organization=request.organization)[:10])
    return render(request, "messaging/bulk_new.html", {"form": form, "recent": recent})


def _bulk(request: StaffRequest, bulk_id: int) -> BulkSend:
    rows = BulkSend.objects.select_related("template", "created_by")
    return get_scoped_or_404(rows, request.organization, pk=bulk_id)


@staff_required(Perm.MANAGE_SETTINGS)
def bulk_detail(request: StaffRequest, bulk_id: int) -> HttpResponse:
    return render(request, "messaging/bulk_detail.html", {"bulk": _bulk(request, bulk_id)})


@staff_required(Perm.MANAGE_SETTINGS)
def bulk_progress(request: StaffRequest, bulk_id: int) -> HttpResponse:
    """The progress bar and counts, polled by htmx while the send runs."""
    return render(request, "messaging/_bulk_progress.html", {"bulk": _bulk(request, bulk_id)})
