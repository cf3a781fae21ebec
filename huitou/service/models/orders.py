"""Service orders (工单): lines, payments, adjustments and recommendations.

Money is Decimal with two places. A line's amount is quantity × unit price −
discount, rounded half-up to the fen; an order's total is the sum of its
line amounts plus its adjustments. A paid order is locked: a later change is
an adjustment with a reason and an author, never an edit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer, MileageReading, Vehicle
from huitou.service.models.catalog import WARRANTY_KM, WARRANTY_MONTHS, MoneyField, Part, ServiceItem, warranty_in_range
from huitou.service.warranty import warranty_words
from huitou.tenancy.models import Shop, TenantModel

ZERO = Decimal("0.00")


class OrderState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    CARD = "card", _("Bank card")
    TRANSFER = "transfer", _("Bank transfer")
    # Paid from the customer's stored-value balance (储值卡): the loyalty app keeps that ledger and
    # refuses the payment (``payment_taken``) when the balance does not cover it.
    STORED_VALUE = "stored_value", _("Stored value")


class ServiceOrder(TenantModel):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=20)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="orders")
    mileage = models.ForeignKey(MileageReading, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mileage_km = models.PositiveIntegerField(_("mileage at arrival (km)"), null=True, blank=True)
    description = models.TextField(_("customer's description"), blank=True)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("service advisor")
    )
    expected_finish_at = models.DateTimeField(_("expected finish"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=OrderState.choices, default=OrderState.OPEN)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    # Kept by the services in the same transaction as every change.
    lines_total = MoneyField(_("lines total"), default=ZERO)
    adjustments_total = MoneyField(_("adjustments"), default=ZERO)
    total = MoneyField(_("total"), default=ZERO)
    amount_paid = MoneyField(_("paid"), default=ZERO)

    opened_at = models.DateTimeField(_("opened"))
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="order_unique_number")]
        indexes = [
            # The day's list comes in index order (newest first, id breaking ties) and its
            # totals read only the index (a covering index on PostgreSQL).
            models.Index(
                fields=["organization", "shop", "opened_at", "id"],
                include=["state", "total", "amount_paid"],
                name="order_org_shop_day_idx",
            ),
            models.Index(fields=["organization", "customer", "-opened_at"], name="order_org_customer_idx"),
            models.Index(fields=["organization", "vehicle", "-opened_at"], name="order_org_vehicle_idx"),
            models.Index(fields=["organization", "state", "-opened_at"], name="order_org_state_idx"),
            # The orders paid in a period (the dashboard's daily facts, active customers).
            models.Index(
                fields=["organization", "paid_at"],
                include=["customer", "shop"],
                condition=Q(state="paid"),
                name="order_org_paid_idx",
            ),
            # The day's last number (``number LIKE 'YYYYMMDD-%'``) when an order is opened: a prefix
            # range on PostgreSQL, whose default collation cannot serve LIKE from the unique index.
            models.Index(
                fields=["organization", "number"],
                opclasses=["int8_ops", "varchar_pattern_ops"],
                name="order_org_number_prefix_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:order_detail", args=[self.pk])

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def is_locked(self) -> bool:
        return self.state in (OrderState.PAID, OrderState.VOID)


class OrderLine(TenantModel):
    class Kind(models.TextChoices):
        SERVICE = "service", _("Service")
        PART = "part", _("Part")
        # Money off shown as its own line (a member's discount, a coupon, points), never a
        # silently lower price: no item, an amount of zero or less.
        DISCOUNT = "discount", _("Discount")

    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    part = models.ForeignKey(Part, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("item"), max_length=60)
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    unit_price = MoneyField(_("unit price"))
    discount = MoneyField(_("discount"), default=ZERO)
    amount = MoneyField(_("amount"))
    unit_cost = MoneyField(_("unit cost"), null=True, blank=True)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why a line is priced as it is, printed on the bill ("套餐卡抵扣"), and for a discount line the
    # line it takes money off (removed with it).
    note = models.CharField(_("note"), max_length=60, blank=True)
    applies_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="discounts", verbose_name=_("applies to")
    )
    # The warranty promised on this visit (质保), whichever leg comes first; printed on the bill and
    # reminded before it lapses (care kind ``warranty``).
    warranty_months = models.PositiveSmallIntegerField(
        _("warranty (months)"), null=True, blank=True, validators=WARRANTY_MONTHS
    )
    warranty_km = models.PositiveIntegerField(_("warranty (km)"), null=True, blank=True, validators=WARRANTY_KM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="service", service__isnull=False, part__isnull=True)
                | Q(kind="part", part__isnull=False, service__isnull=True)
                | Q(kind="discount", service__isnull=True, part__isnull=True, amount__lte=0),
                name="orderline_kind_matches_item",
            ),
            models.CheckConstraint(
                condition=warranty_in_range()
                & (~Q(kind="discount") | Q(warranty_months__isnull=True, warranty_km__isnull=True)),
                name="orderline_warranty_terms",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "order"], name="orderline_org_order_idx"),
            # The warranty reminders read only the lines with a promise.
            models.Index(
                fields=["organization", "order"],
                condition=Q(warranty_months__isnull=False) | Q(warranty_km__isnull=False),
                name="orderline_org_warranty_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def warranty_words(self) -> str:
        """ "Warranty 3 months or 3,000 km" in the reader's language; empty without a promise."""
        return warranty_words(self.warranty_months, self.warranty_km)


class Payment(TenantModel):
    """Money received for an order (a refund is a negative payment). Append-only."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount = MoneyField(_("amount"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "order"], name="payment_org_order_idx"),
            # The payments of a period (the dashboard's daily facts).
            models.Index(fields=["organization", "at"], name="payment_org_at_idx"),
        ]


class OrderAdjustment(TenantModel):
    """A change to a paid order's total: with a reason and an author, never an edit."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="adjustments")
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "order"], name="adjustment_org_order_idx")]


class Recommendation(TenantModel):
    """Further work a technician found (建议项目): accepted into the order or declined."""

    class Urgency(models.TextChoices):
        NOW = "now", _("Needed now")
        SOON = "soon", _("Soon")
        LATER = "later", _("Can wait")

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting the customer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="recommendations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.SOON)
    estimate = MoneyField(_("estimate"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "order"], name="recommendation_org_order_idx"),
            models.Index(fields=["organization", "status", "-recorded_at"], name="recommendation_org_status_idx"),
            models.Index(fields=["organization", "customer", "status"], name="recommendation_org_cust_idx"),
        ]
