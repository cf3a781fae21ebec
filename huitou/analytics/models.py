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


# --- the dashboard's daily facts (``facts.py``) --------------------------------------------------


class DayFact(TenantModel):
    """One shop's money of one local day, as the dashboard defines it (``facts.py`` keeps it).

    ``revenue`` (with the members' and the referred customers' part) is the
    payments taken that day; ``orders``, ``part_sales`` and ``part_cost`` are
    of the orders whose payment completed that day. A day with nothing has no row.
    """

    shop = models.ForeignKey("tenancy.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    member_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    referral_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    orders = models.PositiveIntegerField(default=0)
    part_sales = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    part_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day", "shop"], name="dayfact_one_per_shop_day")]


class DayItemFact(TenantModel):
    """One shop's sales of one catalog service or part on one local day (the lines of the orders paid that day)."""

    shop = models.ForeignKey("tenancy.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=10)  # OrderLine.Kind: "service" or "part"
    service = models.ForeignKey("service.ServiceItem", null=True, on_delete=models.CASCADE, related_name="+")
    part = models.ForeignKey("service.Part", null=True, on_delete=models.CASCADE, related_name="+")
    quantity = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="dayitemfact_org_day_idx")]


class DayNewFact(TenantModel):
    """The new customers of one local day (their first paid visit), at the shop of that visit, by source.

    ``returned_7/30/90``: of them, those with another paid order (any shop)
    within that many days of the first; ``month_k``: those who paid for an
    order (any shop) in the k-th calendar month after the first visit's.
    Deleted files are left out.
    """

    shop = models.ForeignKey("tenancy.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    source = models.ForeignKey("customers.Source", null=True, on_delete=models.CASCADE, related_name="+")
    customers = models.PositiveIntegerField(default=0)
    returned_7 = models.PositiveIntegerField(default=0)
    returned_30 = models.PositiveIntegerField(default=0)
    returned_90 = models.PositiveIntegerField(default=0)
    month_1 = models.PositiveIntegerField(default=0)
    month_2 = models.PositiveIntegerField(default=0)
    month_3 = models.PositiveIntegerField(default=0)
    month_4 = models.PositiveIntegerField(default=0)
    month_5 = models.PositiveIntegerField(default=0)
    month_6 = models.PositiveIntegerField(default=0)
    month_7 = models.PositiveIntegerField(default=0)
    month_8 = models.PositiveIntegerField(default=0)
    month_9 = models.PositiveIntegerField(default=0)
    month_10 = models.PositiveIntegerField(default=0)
    month_11 = models.PositiveIntegerField(default=0)
    month_12 = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="daynewfact_org_day_idx")]


class DayVisitFact(TenantModel):
    """How long before each paid order of a local day its customer's previous ones were: for active and
    repeat customers of any range of days (``facts.visit_days_write`` says how).

    One row per day, gap in days and ``shop`` (null: the orders of every shop,
    gaps to the customer's orders at any shop; a shop: its orders, gaps to the
    customer's orders at that shop). ``first``: orders whose previous paid
    order was ``gap`` days before; ``second``: orders whose last-but-one was.
    ``gap`` is ``facts.GAP_CAP`` for none or that long ago or longer.
    """

    shop = models.ForeignKey("tenancy.Shop", null=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    day_number = models.PositiveIntegerField()  # the day's ordinal (date.toordinal()): gaps are compared with it
    gap = models.PositiveSmallIntegerField()
    first = models.PositiveIntegerField(default=0)
    second = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "shop", "day"],
                include=["day_number", "gap", "first", "second"],
                name="dayvisitfact_org_shop_day_idx",
            )
        ]


class DayChangeFact(TenantModel):
    """The stage changes of one local day that count as churned (to dormant) or won back (came back
    with a paid order), by the days since the same customer's previous one of the kind (``gap``,
    ``facts.GAP_CAP`` for none or that long ago): the distinct customers of any range up to a year
    are one grouped sum, as with ``DayVisitFact``. Deleted files are left out; every shop.
    """

    class Kind(models.TextChoices):
        CHURNED = "churned"
        WON_BACK = "won_back"

    day = models.DateField()
    day_number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    gap = models.PositiveSmallIntegerField()
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="daychangefact_org_day_idx")]


class StaleDay(TenantModel):
    """A local day whose facts must be computed again: written in the transaction that changed it.

    ``version`` goes up with every change; a refresh removes the row only if
    the version is still the one it read, so a change made while it ran is
    not lost.
    """

    day = models.DateField()
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="staleday_one_per_day")]


# --- the staff ranking's kept figures (``staff_facts.py``) ----------------------------------------


class StaffWork(TenantModel):
    """The counters of a person's work, kept per day (``StaffDay``) and per month (``StaffMonth``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    followups_done = models.PositiveIntegerField(default=0)
    followups_late = models.PositiveIntegerField(default=0)
    care_done = models.PositiveIntegerField(default=0)
    care_late = models.PositiveIntegerField(default=0)
    care_skipped = models.PositiveIntegerField(default=0)
    callbacks_done = models.PositiveIntegerField(default=0)
    satisfaction_sum = models.PositiveIntegerField(default=0)
    satisfaction_count = models.PositiveIntegerField(default=0)
    old_customer_contacts = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class StaffDay(StaffWork):
    """One staff member's work of one local day, as the staff ranking counts it (``staff_facts`` keeps it).

    The figures of work done by the person at the time: follow-up tasks of
    theirs done (and late), follow-ups they recorded and care tasks of theirs
    closed, with the contacts among them with existing customers. A day
    without any has no row. The satisfaction is kept as a sum and a count,
    so a period's average is exact.
    """

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "user"], name="staffday_one_per_user_day")
        ]


class StaffMonth(StaffWork):
    """One staff member's ``StaffDay`` rows of one calendar month, summed (``month`` is its first day).

    Written with the days: whoever writes days writes their months again
    from them (``staff_facts.staff_months_write``). A year's ranking sums
    twelve of these per person instead of 365 days.
    """

    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month", "user"], name="staffmonth_one_per_user_month")
        ]


class OwnerFiles(TenantModel):
    """The files one staff member owns now (not deleted): how many, and their completeness summed.

    Kept per owner: a change to a file's owner, completeness or deletion
    raises ``version``; the owner's figures are counted again from the files
    (``staff_facts.owner_files_refresh``) and ``counted`` takes the version
    read, so a change made meanwhile leaves the row stale for the next one.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    files = models.PositiveIntegerField(default=0)
    completeness_sum = models.PositiveBigIntegerField(default=0)
    version = models.PositiveBigIntegerField(default=1)
    counted = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="ownerfiles_one_per_user")]


class OwnerMonth(TenantModel):
    """The funnel's conversions of the files one staff member owns now, per local month of ``converted_at``.

    Counted again with the owner's ``OwnerFiles`` (the same marks: a file
    converted, changing hands, deleted, restored, merged or imported), so a
    year of the staff ranking reads twelve rows a person, not every
    conversion of the year. ``month`` is the month's first day.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    conversions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month", "user"], name="ownermonth_one_per_user_month")
        ]
