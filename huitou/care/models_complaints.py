"""Complaints (投诉) and the callback questionnaire (客户意见卡).

A complaint goes through the nine steps of the shop's procedure in order
(``STEP_ORDER``); each step is recorded once per round with its time, who
recorded it and a note, and each has a deadline counted from the step before
it (the first from the opening). ``Complaint.due_at`` is the deadline of the
next step, so the escalation sweep is one indexed update. A complaint closes
only after the customer's feedback (the ninth step); reopening starts a new
round from the first step. Openings, escalations, closings and reopenings
are logged as ``ComplaintEvent`` rows; the store managers are told through
``ComplaintNotice`` rows, their inbox on the complaint board.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, Vehicle
from huitou.service.models import ServiceOrder
from huitou.tenancy.models import TenantModel


class ComplaintStepKind(models.TextChoices):
    LISTEN = "listen", _("Listen")  # 倾听
    VENT = "vent", _("Let the customer vent")  # 让客户发泄
    APOLOGISE = "apologise", _("Apologise")  # 道歉
    CONFIRM = "confirm", _("Confirm the cause and say it back")  # 确认原因并复述
    EXPLAIN = "explain", _("Explain")  # 解释
    PROPOSE = "propose", _("Propose a solution")  # 提出解决方案
    COMPENSATE = "compensate", _("Compensate")  # 补偿
    OUTCOME = "outcome", _("Outcome")  # 处理结果
    FEEDBACK = "feedback", _("Customer feedback")  # 反馈


# The procedure's order: a step may be recorded only after the one before it.
STEP_ORDER: tuple[str, ...] = tuple(ComplaintStepKind.values)
STEP_COUNT = len(STEP_ORDER)


class ComplaintSource(models.TextChoices):
    CALLBACK = "callback", _("A low callback score")
    MANUAL = "manual", _("Opened by hand")


class Complaint(TenantModel):
    class State(models.TextChoices):
        OPEN = "open", _("Being handled")
        CLOSED = "closed", _("Case closed")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The callback whose low score opened it (one complaint per callback).
    callback = models.ForeignKey("care.CareTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=ComplaintSource.choices)
    summary = models.CharField(_("what it is about"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("handled by")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    round = models.PositiveSmallIntegerField(default=1)  # 1, then one more for each reopening
    steps_done = models.PositiveSmallIntegerField(default=0)  # of this round, 0..9
    opened_at = models.DateTimeField(_("complaint opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("next step due by"), null=True, blank=True)  # None: all nine recorded
    escalated_at = models.DateTimeField(null=True, blank=True)  # the next step went late and was escalated
    closed_at = models.DateTimeField(_("case closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "callback"],
                condition=Q(callback__isnull=False),
                name="complaint_once_per_callback",
            ),
            models.CheckConstraint(condition=Q(steps_done__lte=9), name="complaint_steps_0_9"),
            models.CheckConstraint(
                condition=Q(state="open") | Q(closed_at__isnull=False, steps_done=9),
                name="complaint_closed_after_feedback",
            ),
        ]
        indexes = [
            # The board: open complaints oldest first, closed ones newest first.
            models.Index(fields=["organization", "state", "opened_at"], name="complaint_org_state_idx"),
            models.Index(fields=["organization", "customer", "-opened_at"], name="complaint_org_customer_idx"),
            # The escalation sweep: open, late and not yet escalated.
            models.Index(
                fields=["organization", "due_at"],
                condition=Q(state="open", escalated_at__isnull=True),
                name="complaint_org_late_idx",
            ),
            # The complaints opened in a period (the staff ranking).
            models.Index(fields=["organization", "opened_at"], name="complaint_org_opened_idx"),
        ]

    def __str__(self) -> str:
        return self.summary[:40]

    @property
    def next_step(self) -> str | None:
        return STEP_ORDER[self.steps_done] if self.state == self.State.OPEN and self.steps_done < STEP_COUNT else None


class ComplaintStep(TenantModel):
    """One step of the procedure, recorded: when, by whom, what was said or done."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField(default=1)
    step = models.CharField(_("step"), max_length=10, choices=ComplaintStepKind.choices)
    note = models.TextField(_("note"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("recorded"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    late = models.BooleanField(default=False)
    # Compensation given through the membership ledgers (the 补偿 step).
    coupon = models.ForeignKey("loyalty.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stored_value_entry = models.ForeignKey(
        "loyalty.StoredValueEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")
        constraints = [
            models.UniqueConstraint(fields=["organization", "complaint", "round", "step"], name="complaintstep_once")
        ]


class ComplaintEvent(TenantModel):
    """The log of a complaint beyond its steps: opened, escalated, closed, reopened."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Complaint opened")
        ESCALATED = "escalated", _("Escalated to the store manager")
        CLOSED = "closed", _("Case closed")
        REOPENED = "reopened", _("Reopened")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(default=1)
    step = models.CharField(max_length=10, choices=ComplaintStepKind.choices, blank=True)  # escalated: the late step
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            # Escalating a late step happens once, however often the sweep runs.
            models.UniqueConstraint(
                fields=["organization", "complaint", "round", "step"],
                condition=Q(kind="escalated"),
                name="complaintevent_escalated_once",
            )
        ]
        indexes = [models.Index(fields=["organization", "complaint", "at"], name="complaintevent_org_idx")]


class ComplaintDeadline(TenantModel):
    """How long a step may take after the one before it; a step without a row uses the default."""

    step = models.CharField(_("step"), max_length=10, choices=ComplaintStepKind.choices)
    hours = models.PositiveSmallIntegerField(
        _("within (hours)"), validators=[MinValueValidator(1), MaxValueValidator(720)]
    )

    class Meta:
        verbose_name = _("complaint deadline")
        verbose_name_plural = _("complaint deadlines")
        constraints = [
            models.UniqueConstraint(fields=["organization", "step"], name="complaintdeadline_one_per_step"),
            models.CheckConstraint(condition=Q(hours__gte=1, hours__lte=720), name="complaintdeadline_hours"),
        ]


class ComplaintNotice(TenantModel):
    """A store manager's inbox entry: a complaint was opened from a callback, or went late."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("A low callback score opened a complaint")
        LATE = "late", _("A complaint step is late")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(default=1)
    step = models.CharField(max_length=10, choices=ComplaintStepKind.choices, blank=True)  # late: the late step
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One word per manager and happening, however often the escalation runs.
            models.UniqueConstraint(
                fields=["organization", "recipient", "complaint", "kind", "round", "step"], name="complaintnotice_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="complaintnotice_unread_idx",
            )
        ]


class CallbackQuestion(TenantModel):
    """One question of the callback questionnaire (客户意见卡), edited by the store manager."""

    class Kind(models.TextChoices):
        RATING = "rating", _("A rating from 1 to 5")
        TEXT = "text", _("Words")

    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("answer"), max_length=10, choices=Kind.choices, default=Kind.RATING)
    required = models.BooleanField(_("must be answered"), default=False)
    # Questions are switched off rather than deleted: past answers keep naming them.
    is_active = models.BooleanField(_("asked at callbacks"), default=True)

    class Meta:
        verbose_name = _("callback question")
        verbose_name_plural = _("callback questions")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "is_active", "position"], name="callbackquestion_org_idx")]

    def __str__(self) -> str:
        return self.text
