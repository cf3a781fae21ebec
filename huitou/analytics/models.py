"""Customer scores kept by the nightly job: RFM, grade and churn risk, and the grade rules.

One ``CustomerScore`` row per customer with paid work (or a manual grade),
read with the customer's own row (``select_related("score")``): the file,
the list and the API show the scores without a query of their own.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.tenancy.models import TenantModel

# How far back the RFM figures look by default (months).
DEFAULT_WINDOW_MONTHS = 12


class RfmSegment(models.TextChoices):
    """The eight RFM segments: R, F and M each high (score above the middle, 3) or low."""

    IMPORTANT_VALUE = "important_value", _("Important value")  # 重要价值: R high, F high, M high
    IMPORTANT_DEVELOP = "important_develop", _("Important to develop")  # 重要发展: R high, F low, M high
    IMPORTANT_KEEP = "important_keep", _("Important to keep")  # 重要保持: R low, F high, M high
    IMPORTANT_WIN_BACK = "important_win_back", _("Important to win back")  # 重要挽留: R low, F low, M high
    VALUE = "value", _("Ordinary value")  # 一般价值: R high, F high, M low
    DEVELOP = "develop", _("Ordinary to develop")  # 一般发展: R high, F low, M low
    KEEP = "keep", _("Ordinary to keep")  # 一般保持: R low, F high, M low
    WIN_BACK = "win_back", _("Ordinary to win back")  # 一般挽留: R low, F low, M low


# (R high, F high, M high) → segment
SEGMENT_OF: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): RfmSegment.IMPORTANT_VALUE,
    (True, False, True): RfmSegment.IMPORTANT_DEVELOP,
    (False, True, True): RfmSegment.IMPORTANT_KEEP,
    (False, False, True): RfmSegment.IMPORTANT_WIN_BACK,
    (True, True, False): RfmSegment.VALUE,
    (True, False, False): RfmSegment.DEVELOP,
    (False, True, False): RfmSegment.KEEP,
    (False, False, False): RfmSegment.WIN_BACK,
}


class Grade(models.TextChoices):
    A = "A", _("A · spreader")
    B = "B", _("B")
    C = "C", _("C")


class ChurnRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class CustomerScore(TenantModel):
    """A customer's RFM scores, grade and churn risk, as of ``computed_at``.

    ``r``/``f``/``m`` and ``segment`` are null for a customer without a paid
    order in the window; the churn fields are null without any paid visit.
    ``grade`` is what the rules give; ``grade_override`` (with a reason) wins.
    """

    # The primary key: one row per customer, reached from the customer as ``customer.score``.
    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="score")
    computed_at = models.DateTimeField()
    # RFM over the window: days since the last paid order, paid orders, money received net of refunds.
    recency_days = models.PositiveIntegerField(null=True)
    frequency = models.PositiveIntegerField(default=0)
    monetary = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    r = models.PositiveSmallIntegerField(null=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    f = models.PositiveSmallIntegerField(null=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    m = models.PositiveSmallIntegerField(null=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    segment = models.CharField(max_length=20, choices=RfmSegment.choices, blank=True)
    referrals = models.PositiveIntegerField(default=0)
    # The rules' grade, and the store manager's override with its reason.
    grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.C)
    grade_override = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    grade_reason = models.CharField(max_length=200, blank=True)
    grade_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grade_override_at = models.DateTimeField(null=True, blank=True)
    # Churn: the customer's own rhythm (mean days between paid visits, or the organization's
    # typical interval for a one-visit customer) against the days since the last visit.
    churn_risk = models.CharField(max_length=6, choices=ChurnRisk.choices, blank=True)
    visit_days = models.PositiveIntegerField(default=0)
    interval_days = models.PositiveIntegerField(null=True)
    gap_days = models.PositiveIntegerField(null=True)

    # Merging files folds the other's score in (``receivers``), never moves it blindly.
    merged_by_receiver = True

    class Meta:
        indexes = [
            models.Index(fields=["organization", "segment"], name="score_org_segment_idx"),
            models.Index(fields=["organization", "grade", "grade_override"], name="score_org_grade_idx"),
        ]

    @property
    def effective_grade(self) -> str:
        return self.grade_override or self.grade

    def get_effective_grade_display(self) -> str:
        return str(Grade(self.effective_grade).label)


class GradeRules(TenantModel):
    """The store manager's rules for A and B (else C): a customer meets a grade by any one condition."""

    a_segments = models.JSONField(default=list, blank=True)
    a_min_referrals = models.PositiveSmallIntegerField(null=True, blank=True)
    a_min_tier = models.ForeignKey("loyalty.Tier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    b_segments = models.JSONField(default=list, blank=True)
    b_min_referrals = models.PositiveSmallIntegerField(null=True, blank=True)
    b_min_tier = models.ForeignKey("loyalty.Tier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    window_months = models.PositiveSmallIntegerField(
        default=DEFAULT_WINDOW_MONTHS, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="graderules_one_per_org")]


class Segment(TenantModel):
    """A saved segment (客户分组): a named filter of the customer list, reused as a list, an export
    and the audience of bulk messages and care rules.

    ``filters`` holds the customer list's own filters (the keyword arguments of
    ``customers.selectors.customer_list``, JSON values), as ``segments.segment_filters_clean``
    leaves them: only the conditions set. Options are named by what does not change (a tier,
    shop or staff member by id, a tag by its name, a stage, grade or RFM segment by its code);
    a condition whose option has gone matches nobody rather than everybody.
    """

    name = models.CharField(_("name"), max_length=50)
    filters = models.JSONField(_("conditions"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="segment_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:segment_detail", args=[self.pk])
