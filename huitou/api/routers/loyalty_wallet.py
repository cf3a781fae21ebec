"""/api/v1: membership — stored value, package cards and statements. The pages call the same services.

- ``POST /customers/{id}/stored-value/top-ups``: the customer pays in; the top-up rule met adds its
  bonus (front desk: ``loyalty.sell``).
- ``POST /customers/{id}/stored-value/refund``: the card is closed out, the unspent principal paid
  back, the bonus forfeited (store manager: ``loyalty.manage``).
- ``GET /customers/{id}/statement?ledger=``: every movement of points, stored value, package cards
  and coupons, newest first (all staff who see customers).
- ``/loyalty/card-products``: the package cards the shop sells (read: all staff; write: store manager).

Paying with stored value is ``POST /orders/{id}/payments`` with ``"method": "stored_value"``; a card
use is ``POST /orders/{id}/lines`` with ``"package_card_id"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Query, Router, Status
from pydantic import Field

from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.schemas import MAX_PAGE, trimmed
from huitou.api.service_schemas import IdIn, Money, MoneyIn, money
from huitou.customers.models import Customer
from huitou.loyalty.models import CardProduct, LoyaltyAccount, StoredValueEntry
from huitou.loyalty.selectors.wallet import STATEMENT_PAGE_SIZE, statement
from huitou.loyalty.services.cards import MAX_DAYS, MAX_USES, card_product_save
from huitou.loyalty.services.stored_value import stored_value_refund, stored_value_top_up
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["membership"])

OutsideMethod = Literal["cash", "wechat", "alipay", "card", "transfer"]
LedgerCode = Literal["points", "stored_value", "package_cards", "coupons"]
BindingCode = Literal["vehicle", "customer"]
ProductCode = Annotated[str, trimmed(30, required=True, examples=["wash-10"])]
ProductName = Annotated[str, trimmed(60, required=True, examples=["洗车10次卡"])]


class Balance(Schema):
    principal: Money = Field(description="Money the customer paid in, unspent")
    bonus: Money = Field(description="Bonus given by the shop, unspent (forfeited on a refund of the card)")
    balance: Money = Field(description="principal + bonus: what may pay orders")


class EntryOut(Schema):
    id: int
    kind: Literal["top_up", "spend", "order_refund", "card_refund", "reward", "reverse", "adjust"]
    principal: Money = Field(description="Principal moved: + in, − out")
    bonus: Money = Field(description="Bonus moved: + in, − out")
    method: str = Field(description="How the money came in or went out (top-up, refund of the card)")
    at: dt.datetime
    reason: str


class TopUpIn(Schema):
    amount: MoneyIn = Field(description="Yuan paid in, above 0 (the bonus rule met is added)")
    method: OutsideMethod
    reference: str = Field(default="", max_length=200, description="e.g. the WeChat Pay transaction number")


class TopUpOut(Schema):
    entry: EntryOut
    stored_value: Balance


class RefundIn(Schema):
    method: OutsideMethod = Field(description="How the principal is paid back")
    reason: str = Field(max_length=200)


class StatementItemOut(Schema):
    at: dt.datetime
    ledger: LedgerCode
    amount: str = Field(
        description="Stored value: yuan (+ in, − out); points and package cards: a whole number; "
        "coupons: the money a use took off, or empty"
    )
    balance_after: str = Field(
        description="The ledger's balance after the entry: yuan, points, the card's uses left, or the coupon's state"
    )
    reason: str = Field(description="What happened, in words")
    order_id: int | None


class StatementOut(Schema):
    items: list[StatementItemOut]
    count: int


class StatementQuery(Schema):
    ledger: LedgerCode | None = Field(default=None, description="One ledger; default: all four")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=STATEMENT_PAGE_SIZE, ge=1, le=200)


class ProductOut(Schema):
    id: int
    code: str
    name: str
    price: Money
    uses: int
    validity_days: int
    binding: BindingCode
    services: list[int] = Field(description="The service items a use may pay for")
    sale_item_id: int | None = Field(description="The service item the card is sold as (a line of it)")
    is_active: bool


class ProductList(Schema):
    items: list[ProductOut]


class ProductIn(Schema):
    code: ProductCode
    name: ProductName
    price: MoneyIn
    uses: int = Field(ge=1, le=MAX_USES)
    validity_days: int = Field(default=365, ge=1, le=MAX_DAYS)
    binding: BindingCode = "vehicle"
    services: list[IdIn] = Field(min_length=1, max_length=200, description="Service item ids it covers")
    is_active: bool = True


class ProductPatch(Schema):
    code: ProductCode | None = None
    name: ProductName | None = None
    price: MoneyIn | None = None
    uses: int | None = Field(default=None, ge=1, le=MAX_USES)
    validity_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    binding: BindingCode | None = None
    services: list[IdIn] | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None


def _balance(account: LoyaltyAccount) -> dict[str, Any]:
    return {
        "principal": money(account.stored_principal),
        "bonus": money(account.stored_bonus),
        "balance": money(account.stored_balance),
    }


def _entry(entry: StoredValueEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "principal": money(entry.principal),
        "bonus": money(entry.bonus),
        "method": entry.method,
        "at": entry.at,
        "reason": entry.reason,
    }


def _account(customer: Customer) -> LoyaltyAccount:
    return LoyaltyAccount.objects.for_org(customer.organization_id).get(customer_id=customer.pk)


@router.post("/customers/{customer_id}/stored-value/top-ups", response={201: TopUpOut}, summary="Top up stored value")
def top_up(request: ApiRequest, customer_id: IdIn, payload: TopUpIn) -> Status:
    """The customer pays ``amount`` in by ``method``; the largest top-up rule met adds its bonus
    (1,000 → 100, 3,000 → 400 for a new organization). Front desk: ``loyalty.sell``.
    A deleted file answers 409."""
    organization = require(request, Perm.SELL_MEMBERSHIP)
    customer = get_scoped_or_404(Customer.objects.all(), organization, pk=customer_id)
    entry = stored_value_top_up(
        customer=customer,
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        by=request.user,
    )
    return Status(201, {"entry": _entry(entry), "stored_value": _balance(_account(customer))})


@router.post(
    "/customers/{customer_id}/stored-value/refund", response={201: TopUpOut}, summary="Refund the stored-value card"
)
def refund(request: ApiRequest, customer_id: IdIn, payload: RefundIn) -> Status:
    """The unspent principal is paid back by ``method``; the unspent bonus is forfeited (a second
    entry). Store manager: ``loyalty.manage``. Nothing unspent answers 409."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    customer = get_scoped_or_404(Customer.objects.all(), organization, pk=customer_id)
    entry = stored_value_refund(customer=customer, method=payload.method, reason=payload.reason, by=request.user)
    return Status(201, {"entry": _entry(entry), "stored_value": _balance(_account(customer))})


@router.get("/customers/{customer_id}/statement", response=StatementOut, summary="A customer's statement")
def customer_statement(request: ApiRequest, customer_id: IdIn, query: Query[StatementQuery]) -> dict[str, Any]:
    """Every movement of the customer's points, stored value, package cards and coupons, newest first
    (``customers.view``). The stored-value items of a customer sum to their balance.

    Queries: 1 the customer, 1 count, 1 page of keys, 1 per ledger on the page.
    """
    organization = require(request, Perm.VIEW_CUSTOMERS)
    customer = get_scoped_or_404(Customer.objects.all(), organization, pk=customer_id)
    found = statement(customer=customer, ledger=query.ledger or "", page=query.page, page_size=query.page_size)
    return {
        "items": [
            {
                "at": i.at,
                "ledger": i.ledger,
                "amount": i.amount,
                "balance_after": i.balance_after,
                "reason": i.reason or i.kind_label,
                "order_id": i.order_id,
            }
            for i in found.items
        ],
        "count": found.count,
    }


def product_out(product: CardProduct) -> dict[str, Any]:
    """(``services`` prefetched, or one query more.)"""
    return {
        "id": product.pk,
        "code": product.code,
        "name": product.name,
        "price": money(product.price),
        "uses": product.uses,
        "validity_days": product.validity_days,
        "binding": product.binding,
        "services": sorted(s.pk for s in product.services.all()),
        "sale_item_id": product.sale_item_id,
        "is_active": product.is_active,
    }


def _products(organization: Any) -> Any:
    return CardProduct.objects.for_org(organization).prefetch_related("services")


@router.get("/loyalty/card-products", response=ProductList, summary="Package card products")
def list_products(request: ApiRequest) -> dict[str, Any]:
    """Active first, by code (all staff). Queries: 1 products, 1 their services."""
    organization = require(request, Perm.VIEW_CATALOG)
    return {"items": [product_out(p) for p in _products(organization).order_by("-is_active", "code")]}


@router.post("/loyalty/card-products", response={201: ProductOut}, summary="Add a package card product")
def create_product(request: ApiRequest, payload: ProductIn) -> Status:
    """Store manager only. Its sale item (``CARD-<CODE>``) is made with it; sold as a line of that
    item, the card is issued when the order is paid."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    product = card_product_save(organization=organization, data=payload.model_dump())
    return Status(201, product_out(_products(organization).get(pk=product.pk)))


@router.patch("/loyalty/card-products/{product_id}", response=ProductOut, summary="Change a package card product")
def patch_product(request: ApiRequest, product_id: IdIn, payload: ProductPatch) -> dict[str, Any]:
    """Store manager only. Cards already sold keep their uses and expiry; ``"is_active": false``
    stops selling it (its sale item too)."""
    organization = require(request, Perm.MANAGE_LOYALTY)
    product = get_scoped_or_404(CardProduct.objects.all(), organization, pk=product_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    card_product_save(organization=organization, product=product, data=data)
    return product_out(_products(organization).get(pk=product.pk))
