"""Care (关怀回访): the tasks that bring a car back, the rules that make them, and what is due.

The nightly sweep (``services.sweep``) turns what is due into care tasks, one
per vehicle, reason and period (``CareTask.key``), so running it twice for a
day, or for a day it missed, adds nothing twice. What each vehicle's next
maintenance is (``MaintenanceDue``) is kept when it changes — an order paid,
a new odometer reading — so the sweep itself is a few indexed selects.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, Tag, Vehicle
from huitou.service.models import ServiceItem, ServiceOrder
from huitou.tenancy.models import TenantModel


class CareKind(models.TextChoices):
    CALLBACK = "callback", _("Callback after a visit")
    MAINTENANCE = "maintenance", _("Maintenance due")
    INSURANCE = "insurance", _("Insurance renewal")
    INSPECTION = "inspection", _("Annual inspection")
    WARRANTY = "warranty", _("Warranty ending")
    BIRTHDAY = "birthday", _("Birthday")
    FESTIVAL = "festival", _("Festival greeting")
    DECLINED_WORK = "declined_work", _("Declined work")
    WINBACK = "winback", _("Win back")
    COUPON_EXPIRING = "coupon_expiring", _("Coupon expiring")
    CARD_EXPIRING = "card_expiring", _("Package card expiring")


class OwnerMode(models.TextChoices):
    CUSTOMER_OWNER = "customer_owner", _("The customer's owner")
    ADVISOR = "advisor", _("The order's service advisor")
    FIXED = "fixed", _("One staff member")


class CareRule(TenantModel):
    """How one kind of care works in an organization; a kind without a row uses ``rules.DEFAULTS``."""

    kind = models.CharField(_("kind"), max_length=15, choices=CareKind.choices)
    is_active = models.BooleanField(_("on"), default=True)
    lead_days = models.PositiveSmallIntegerField(
        _("days ahead"), default=7, validators=[MinValueValidator(0), MaxValueValidator(120)]
    )
    owner_mode = models.CharField(
        _("owner"), max_length=15, choices=OwnerMode.choices, default=OwnerMode.CUSTOMER_OWNER
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    script = models.TextField(_("suggested script"), blank=True)
    # The audience (``services.audience``): the customers' grades (A/B/C, a manual grade first) and tags
    # the rule reaches. An empty list reaches every grade, no tag every tag; both set, a customer needs both.
    grades = models.JSONField(_("grades"), default=list, blank=True)
    tags = models.ManyToManyField(Tag, through="CareRuleTag", blank=True, related_name="+", verbose_name=_("tags"))

    class Meta:
        verbose_name = _("care rule")
        verbose_name_plural = _("care rules")
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="carerule_one_per_kind")]


class CareRuleTag(TenantModel):
    """A tag a care rule is limited to. A tag in use by a rule cannot be deleted while the rule names it."""

    rule = models.ForeignKey(CareRule, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "rule", "tag"], name="careruletag_unique")]


class CareTask(TenantModel):
    """One piece of care owed to a customer: who, by when, why, and how it ended."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    kind = models.CharField(_("kind"), max_length=15, choices=CareKind.choices)
    # What makes it one task: the kind's subject and period, e.g. "maintenance:<vehicle>:<service>:<last order>".
    key = models.CharField(max_length=80)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey(Vehicle, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due"))
    due_at = models.DateTimeField(_("due by"), null=True, blank=True)  # callbacks: 48 hours after the visit
    reason = models.CharField(_("reason"), max_length=200)
    script = models.TextField(_("suggested script"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    result = models.CharField(_("result"), max_length=200, blank=True)
    score = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("care task")
        verbose_name_plural = _("care tasks")
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "key"], name="caretask_once_per_key"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5), name="caretask_score_1_5"
            ),
        ]
        indexes = [
            # "My care today / overdue / this week": open tasks of one staff member by day.
            models.Index(
                fields=["organization", "owner", "due_on"],
                condition=Q(state="open"),
                name="caretask_org_owner_open_idx",
            ),
            # The store manager's late tasks by staff.
            models.Index(
                fields=["organization", "due_on"],
                include=["owner"],
                condition=Q(state="open"),
                name="caretask_org_due_open_idx",
            ),
            models.Index(fields=["organization", "customer", "-due_on"], name="caretask_org_customer_idx"),
            # The tasks closed in a run of days (the staff ranking's daily figures).
            models.Index(
                fields=["organization", "closed_at"],
                condition=Q(closed_at__isnull=False),
                name="caretask_org_closed_idx",
            ),
        ]


class MaintenanceDue(TenantModel):
    """When a vehicle next needs a service with an interval, from its last time and the odometer estimate.

    Kept by ``services.dues.dues_refresh`` when the vehicle's paid orders or
    readings change. ``due_on`` is whichever comes first: the date interval
    from the last time, or the day the estimated odometer reaches the last
    time's mileage plus the distance interval.
    """

    class By(models.TextChoices):
        DATE = "date", _("by date")
        KM = "km", _("by mileage")

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="+")
    last_order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="+")
    last_done_on = models.DateField()
    last_km = models.PositiveIntegerField(null=True, blank=True)
    km_per_day = models.FloatField(null=True, blank=True)
    due_km = models.PositiveIntegerField(null=True, blank=True)
    due_on = models.DateField()
    due_by = models.CharField(max_length=4, choices=By.choices)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "vehicle", "service"], name="maintenancedue_one_per_item")
        ]
        indexes = [models.Index(fields=["organization", "due_on"], name="maintenancedue_org_due_idx")]


# Complaints and the callback questionnaire live beside the tasks that lead to them.
from huitou.care.models_complaints import (  # noqa: E402
    STEP_COUNT,
    STEP_ORDER,
    CallbackQuestion,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
    ComplaintNotice,
    ComplaintSource,
    ComplaintStep,
    ComplaintStepKind,
)

__all__ = [
    "STEP_COUNT",
    "STEP_ORDER",
    "CallbackQuestion",
    "CareKind",
    "CareRule",
    "CareRuleTag",
    "CareTask",
    "Complaint",
    "ComplaintDeadline",
    "ComplaintEvent",
    "ComplaintNotice",
    "ComplaintSource",
    "ComplaintStep",
    "ComplaintStepKind",
    "MaintenanceDue",
    "OwnerMode",
]
