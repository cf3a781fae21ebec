"""Messages (短信库 and the outbox): templates, one outbox for every channel, bulk sends, settings.

Every message to a customer is a ``Message`` row, whatever sends it (a staff
member on the file, a bulk send, care reminders, later campaigns and the
portal) and whatever carries it: ``manual`` (staff copy the text to WeChat
and mark it sent), ``sms`` (a cloud provider), ``email`` (Django's mail).
The row keeps why it was refused or held (a code, shown in the reader's
language) and the provider's last answer.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from huitou.customers.models import Customer
from huitou.tenancy.models import TenantModel


class Channel(models.TextChoices):
    MANUAL = "manual", _("By hand (WeChat)")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class Purpose(models.TextChoices):
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")


class State(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class Reason(models.TextChoices):
    """Why a message was refused, held or failed (stored as the code, shown in the reader's language)."""

    CONSENT_MISSING = "consent_missing", _("The customer has not agreed to marketing messages on this channel")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("The customer withdrew consent for this channel")
    WEEKLY_CAP = "weekly_cap", _("This week's limit of marketing messages to the customer is reached")
    QUIET_HOURS = "quiet_hours", _("Quiet hours: held until they end")
    NO_PHONE = "no_phone", _("The customer has no mobile number")
    NO_EMAIL = "no_email", _("The customer has no email address")
    SMS_OFF = "sms_off", _("SMS is not set up")
    EMAIL_OFF = "email_off", _("Email is not set up")
    SMS_TEMPLATE_MISSING = "sms_template", _("SMS goes only with a template registered at the provider")
    VALUES_MISSING = "values_missing", _("The customer's file lacks what the text needs")
    CUSTOMER_DELETED = "customer_deleted", _("The customer file was deleted")
    PROVIDER_RETRY = "provider_retry", _("The provider did not take it; trying again later")
    PROVIDER_FAILED = "provider_failed", _("The provider did not take it after several tries")
    PROVIDER_REFUSED = "provider_refused", _("The provider refused it")


# The placeholders in template bodies. The keys are what a body writes ({name}); the values label them.
PLACEHOLDERS: dict[str, StrOrPromise] = {
    "name": _("the customer's name"),
    "plate": _("the plate"),
    "car": _("brand and model"),
    "service": _("the service"),
    "due_date": _("the due date"),
    "shop": _("the shop"),
    "coupon": _("a coupon"),
    "points": _("points balance"),
    "tier": _("membership tier"),
}


class MessagingSettings(TenantModel):
    """Quiet hours, the weekly cap of marketing messages and the SMS signature of an organization.

    An organization without a row uses the defaults (21:00-09:00, 3 a week).
    """

    quiet_start = models.TimeField(_("quiet hours start"), default=dt.time(21))
    quiet_end = models.TimeField(_("quiet hours end"), default=dt.time(9))
    weekly_marketing_cap = models.PositiveSmallIntegerField(
        _("marketing messages per customer in 7 days"),
        default=3,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
    )
    sms_sign = models.CharField(_("SMS signature"), max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message settings")
        verbose_name_plural = _("message settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="messagingsettings_one_per_org")]


class MessageTemplate(TenantModel):
    """One text of the template library (短信库), with ``{placeholders}`` filled per customer."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.SERVICE)
    body = models.TextField(_("text"), max_length=500)
    sms_template_id = models.CharField(
        _("SMS template ID at the provider"),
        max_length=40,
        blank=True,
        help_text=_("SMS providers send only texts they approved: the ID they gave this text."),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="messagetemplate_code_unique")]

    def __str__(self) -> str:
        return self.name


class BulkSend(TenantModel):
    """One template sent to a list of customers, in batches by a huey task, with its progress."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Sending")
        DONE = "done", _("Done")

    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    filters = models.JSONField(default=dict, blank=True)  # stage, tag: which customers
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    next_customer_id = models.BigIntegerField(default=0)  # the batches' cursor: customers above it are left
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulk send")
        verbose_name_plural = _("bulk sends")
        indexes = [models.Index(fields=["organization", "-created_at"], name="bulksend_org_created_idx")]

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)


class Message(TenantModel):
    """One message to one customer on one channel, and what became of it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bulk = models.ForeignKey(BulkSend, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.MANUAL)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    detail = models.CharField(_("provider's answer"), max_length=300, blank=True)
    to = models.CharField(_("to"), max_length=254, blank=True)  # the phone (E.164) or email address used
    subject = models.CharField(_("subject"), max_length=100, blank=True)
    body = models.TextField(_("text"))
    # The placeholders' values in the order the text first uses them: [[name, value], ...] (SMS templates).
    params = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            # The outbox, newest first, all or by state.
            models.Index(fields=["organization", "-created_at"], name="message_org_created_idx"),
            models.Index(fields=["organization", "state", "-created_at"], name="message_org_state_idx"),
            # A customer's messages, and their marketing messages of the last 7 days (the cap).
            models.Index(fields=["organization", "customer", "-created_at"], name="message_org_customer_idx"),
            # The drain: what is waiting, by when it is due.
            models.Index(
                fields=["organization", "next_attempt_at"],
                include=["channel", "state"],
                condition=Q(state__in=["queued", "held"]),
                name="message_org_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.customer_id}"
