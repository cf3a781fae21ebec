"""The customer lifecycle: stage transitions, follow-ups, plans and prospect rotation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, IntentGrade, Source, Stage
from huitou.tenancy.models import TenantModel


class StageReason(models.TextChoices):
    CREATED = "created", _("File created")
    MANUAL = "manual", _("Changed by hand")
    FOLLOWUP_INTENT = "followup_intent", _("Follow-up recorded an intent grade")
    FIRST_PAID_ORDER = "first_paid_order", _("First paid order")
    RETURNED = "returned", _("Came back: paid order")
    MEMBERSHIP = "membership", _("Joined membership")
    NO_VISIT = "no_visit", _("No visit for too long")
    MERGED = "merged", _("Merged with a duplicate file")
    IMPORTED = "imported", _("Imported with this stage")


class StageChange(TenantModel):
    """One move of a customer from one stage to another: when, why and by whom.

    ``by`` is empty when the product made the move (a paid order, the daily
    job); ``reason`` says which. Conversion times are measured from these.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("from"), max_length=10, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=10, choices=Stage.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=StageReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["organization", "customer", "at"], name="stagechange_org_customer_idx"),
            models.Index(fields=["organization", "to_stage", "at"], name="stagechange_org_to_at_idx"),
        ]


class FollowUpChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Visit")
    IN_STORE = "in_store", _("In store")


class FollowUp(TenantModel):
    """A follow-up that happened (跟进记录): who reached the customer, how, and what came of it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followups")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=FollowUpChannel.choices)
    content = models.TextField(_("what was said"))
    result = models.CharField(_("result"), max_length=200, blank=True)
    grade = models.CharField(_("intent grade"), max_length=1, choices=IntentGrade.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_due = models.DateField(_("next step due"), null=True, blank=True)
    task = models.ForeignKey(
        "FollowUpTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["organization", "customer", "-at"], name="followup_org_customer_idx"),
            models.Index(fields=["organization", "staff", "at"], name="followup_org_staff_idx"),
            # The follow-ups of a run of days (the staff ranking's daily figures).
            models.Index(fields=["organization", "at"], name="followup_org_at_idx"),
        ]


class FollowUpPlan(TenantModel):
    """The standard process (标准业务流程) for customers entering a stage, maybe from one source.

    When a customer enters ``stage``, the active plan for their source is
    used, else the active plan for the stage with no source; its steps become
    tasks for the customer's owner.
    """

    name = models.CharField(_("name"), max_length=100)
    stage = models.CharField(_("when entering"), max_length=10, choices=Stage.choices, default=Stage.PROSPECT)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("for source")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        indexes = [models.Index(fields=["organization", "stage", "source"], name="plan_org_stage_source_idx")]

    def __str__(self) -> str:
        return self.name


class FollowUpPlanStep(TenantModel):
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="steps")
    day_offset = models.PositiveSmallIntegerField(_("day"))
    channel = models.CharField(_("channel"), max_length=10, choices=FollowUpChannel.choices)
    action = models.CharField(_("what to do"), max_length=200)

    class Meta:
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")
        ordering = ["day_offset", "id"]


class TaskOrigin(models.TextChoices):
    PLAN = "plan", _("Follow-up plan")
    NEXT_STEP = "next_step", _("Next step of a follow-up")


class FollowUpTask(TenantModel):
    """A follow-up due (待跟进): on a day, by a staff member, for a customer.

    Open while ``closed_at`` is empty. Recording a follow-up closes it as done;
    a stage change that makes it pointless closes it as cancelled. Deleting
    the file puts its open tasks on hold (closed, so no work list and no
    index holds them); restoring the file opens them again.
    """

    class Closed(models.TextChoices):
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        ON_HOLD = "on_hold", _("On hold: the file is deleted")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followup_tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned to")
    )
    due_on = models.DateField(_("due"))
    channel = models.CharField(_("channel"), max_length=10, choices=FollowUpChannel.choices, blank=True)
    action = models.CharField(_("what to do"), max_length=200)
    origin = models.CharField(_("from"), max_length=10, choices=TaskOrigin.choices)
    plan_step = models.ForeignKey(FollowUpPlanStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The stage whose plan scheduled it: leaving that stage for a later one cancels it.
    stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_as = models.CharField(max_length=10, choices=Closed.choices, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [
            # "My follow-ups today / overdue": open tasks of one staff member by day.
            models.Index(
                fields=["organization", "assignee", "due_on"],
                condition=Q(closed_at__isnull=True),
                name="task_org_assignee_open_idx",
            ),
            # The manager's overdue view across staff.
            models.Index(
                fields=["organization", "due_on"],
                include=["assignee"],
                condition=Q(closed_at__isnull=True),
                name="task_org_due_open_idx",
            ),
            models.Index(
                fields=["organization", "customer", "due_on"],
                condition=Q(closed_at__isnull=True),
                name="task_org_customer_open_idx",
            ),
            # The tasks done in a run of days (the staff ranking's daily figures).
            models.Index(
                fields=["organization", "closed_at"],
                condition=Q(closed_as="done"),
                name="task_org_done_idx",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ProspectRotation(TenantModel):
    """Staff who take new prospects in turn (round robin), and who took the last one."""

    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="rotation_one_per_org")]
