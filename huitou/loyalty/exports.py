"""A customer's statement (对账单) as an export source: the page's ledger filter, the page's selector."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.exports.registry import Column, ExportSource, register
from huitou.exports.sources import BATCH, _int, local
from huitou.loyalty.selectors.wallet import LEDGERS, StatementItem, statement
from huitou.loyalty.templatetags.loyalty_statement import coupon_reason, coupon_state
from huitou.loyalty.views.wallet import LEDGER_LABELS
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

ALL = "all"


def statement_row(item: StatementItem) -> tuple[Any, ...]:
    """One line of the statement as the page shows it, with numbers as numbers: time, ledger, what
    (a card's or a coupon's name after the kind), amount (yuan, points or uses; a coupon's money
    off), balance after (a coupon: the state it left the coupon in), order number, reason (left
    out where it is the order number, as on the page)."""
    money = item.ledger == "stored_value"
    named = item.ledger in ("package_cards", "coupons")
    if item.ledger == "coupons":
        amount: Any = Decimal(item.amount) if item.amount else None
        balance: Any = coupon_state(item.balance_after)
    else:
        amount = Decimal(item.amount) if money else int(item.amount)
        balance = Decimal(item.balance_after) if money else int(item.balance_after)
    reason = ""
    if item.reason and item.reason != item.order_number:
        reason = coupon_reason(item.reason) if item.ledger == "coupons" else item.reason
    return (
        local(item.at),
        str(LEDGER_LABELS[item.ledger]),
        f"{item.kind_label} · {item.detail}" if named else item.kind_label,
        amount,
        balance,
        item.order_number,
        reason,
    )


class StatementSource(ExportSource):
    """One customer's statement (对账单), one ledger or all four, newest first: every page of it."""

    name = "statement"
    title = _("Statement")
    perm = Perm.VIEW_CUSTOMERS  # the statement page's
    columns = (
        Column(_("Time"), 18),
        Column(_("Ledger"), 10),
        Column(_("What"), 24),
        Column(_("Amount"), 12),
        Column(_("Balance after"), 12),
        Column(_("Order number"), 16),
        Column(_("Reason"), 24),
    )

    def filters(self, params: Mapping[str, Any], *, organization: Organization, viewer: User) -> dict[str, Any]:
        """``customer`` (of the viewer's organization, or 404 as on the page) and ``ledger``: one of the
        four, else all of them (``all``), as the page reads it."""
        customer = get_scoped_or_404(Customer.objects.all(), organization, pk=_int(params.get("customer")))
        ledger = params.get("ledger") or ""
        return {"customer_id": customer.pk, "ledger": ledger if ledger in LEDGERS else ALL}

    @staticmethod
    def _read(organization: Organization, filters: Mapping[str, Any], page: int, size: int) -> Any:
        customer = Customer(pk=filters["customer_id"], organization_id=organization.pk)
        ledger = filters["ledger"] if filters["ledger"] in LEDGERS else ""
        return statement(customer=customer, ledger=ledger, page=page, page_size=size)

    def count(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> int:
        return int(self._read(organization, filters, 1, 0).count)  # an empty page: the count alone

    def rows(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        """The statement's pages of ``BATCH`` lines in its own order (a statement longer than one
        batch is read page by page, as the page reads it)."""
        page = 1
        while True:
            items = self._read(organization, filters, page, BATCH).items
            yield from (statement_row(item) for item in items)
            if len(items) < BATCH:
                return
            page += 1


register(StatementSource())
