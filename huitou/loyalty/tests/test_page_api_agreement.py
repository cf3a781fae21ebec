"""The page and the API agree on every membership write: the same input through either leaves
the same rows and balances, or is refused with the same message and leaves nothing.

The pattern of ``huitou/api/tests/test_page_api_agreement.py`` (whose ``stored`` gives the
domain's rows), with the membership ledgers added (``rows.ledgers``) and one difference: a row's API
side is a *sequence* of calls, because one page may do what the API does in several steps (the
counter checkout: a card pays a line, a coupon, points, stored value, the rest in cash). Each row
arranges a starting state once; the page and then the API run from it, each in a savepoint rolled
back afterwards, and what they leave behind is compared. A refusal must come from the service:
the same message on the page as in the API's answer, and nothing written by either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer, Vehicle
from huitou.loyalty import errors
from huitou.loyalty.forms_members import TierForm
from huitou.loyalty.models import (
    CardProduct,
    Coupon,
    CouponTemplate,
    CouponTrigger,
    PackageCard,
    ReferralPolicy,
    Tier,
    TopUpRule,
)
from huitou.loyalty.services.cards import card_product_save, card_use
from huitou.loyalty.services.coupons import coupon_apply, coupon_issue, coupon_rule_save, coupon_template_save
from huitou.loyalty.services.points import points_redeem
from huitou.loyalty.services.referrals import referral_policy_save
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.loyalty.tests.rows import everything
from huitou.service.models import ServiceOrder
from huitou.service.services.catalog import service_item_save
from huitou.service.services.orders import order_add_line, order_adjust, order_complete, order_pay
from huitou.tenancy.models import Organization, Shop, User
from huitou.testing.fixtures import first_shop
from huitou.testing.text import zh

M = Decimal

# --- the writes --------------------------------------------------------------------------------

Json = dict[str, Any] | None
Call = tuple[str, str, Json]


@dataclass
class Write:
    """One write as the page takes it (one form post) and as the API does (one or more calls).

    ``arrange(w)`` builds the starting state; ``page(w)`` gives the page's (url, form data),
    ``api(w)`` the API's calls in order. ``refused`` is the service's message when the input
    must be refused (the API's last call answers ``api_status``, the earlier ones succeed).
    """

    name: str
    page: Callable[[SimpleNamespace], tuple[str, dict[str, Any]]]
    api: Callable[[SimpleNamespace], list[Call]]
    arrange: Callable[[SimpleNamespace], Any] = lambda w: None
    user: str = "advisor"
    refused: Any = None
    api_status: int = 422


def said(message: Any, **params: Any) -> Callable[[], str]:
    """A refusal whose message has ``%(...)s`` parameters (labels given lazily are rendered in Chinese)."""
    return lambda: zh(message, **{k: zh(v) if not isinstance(v, str | int | Decimal) else v for k, v in params.items()})


# --- starting states ---------------------------------------------------------------------------


def _topped_up(amount: str = "1000") -> Callable[[SimpleNamespace], None]:
    def arrange(w: SimpleNamespace) -> None:
        stored_value_top_up(customer=w.customer, amount=amount, method="cash", by=w.advisor)

    return arrange


def _completed(w: SimpleNamespace) -> None:
    """The order at the counter: a wash (40.00, by the technician) and an oil change (120.00), done."""
    w.order = w.make_order(w.car, shop=w.shop)
    w.wash_line = order_add_line(order=w.order, by=w.advisor, service=w.wash, technician=w.tech)
    w.oil_line = order_add_line(order=w.order, by=w.advisor, service=w.oil)
    order_complete(order=w.order, by=w.advisor)


def _paid_order(w: SimpleNamespace, *, service: Any, unit_price: str | None = None) -> ServiceOrder:
    """An earlier visit, paid in cash (it earns its points)."""
    order = w.make_order(w.car, shop=w.shop)
    line = order_add_line(order=order, by=w.advisor, service=service, unit_price=unit_price)
    order_complete(order=order, by=w.advisor)
    order_pay(order=order, by=w.advisor, method="cash", amount=line.amount)
    return order


def _with_card(w: SimpleNamespace, *, uses: int = 5) -> None:
    """A wash card of ``uses`` uses bought on an earlier visit, bound to the car."""
    w.product = card_product_save(
        organization=w.org,
        data={"code": "wash-n", "name": "洗车次卡", "price": "150", "uses": uses, "validity_days": 365}
        | {"binding": "vehicle", "services": [w.wash.pk]},
    )
    _paid_order(w, service=w.product.sale_item)
    w.card = PackageCard.objects.for_org(w.org).get(product=w.product)


def _with_used_up_card(w: SimpleNamespace) -> None:
    _with_card(w, uses=1)
    earlier = w.make_order(w.car, shop=w.shop)
    card_use(order=earlier, card=w.card, service=w.wash, by=w.advisor)


def _with_coupon(w: SimpleNamespace) -> None:
    """A 20-yuan labour coupon (on orders of 100 or more), given by hand."""
    w.template = coupon_template_save(
        organization=w.org,
        data={"code": "labour-20", "name": "20元工时券", "kind": "amount", "value": "20", "min_spend": "100"},
    )
    w.coupon = coupon_issue(customer=w.customer, template=w.template, source=CouponTrigger.MANUAL, by=w.advisor)


def _with_used_coupon(w: SimpleNamespace) -> None:
    _with_coupon(w)
    earlier = w.make_order(w.car, shop=w.shop)
    order_add_line(order=earlier, by=w.advisor, service=w.oil)
    coupon_apply(order=earlier, coupon=w.coupon, by=w.advisor)


def _with_points(points: str) -> Callable[[SimpleNamespace], None]:
    """``points`` earned on an earlier visit (a repair at that many yuan: a point per yuan)."""

    def arrange(w: SimpleNamespace) -> None:
        _paid_order(w, service=w.oil, unit_price=points)

    return arrange


def _applied(w: SimpleNamespace) -> None:
    """The card, the coupon and 1,000 points already on the completed order (nothing paid yet)."""
    card_use(order=w.order, card=w.card, service=w.wash, by=w.advisor, replaces=w.wash_line)
    coupon_apply(order=w.order, coupon=w.coupon, by=w.advisor)
    points_redeem(order=w.order, points=1000, by=w.advisor)


def _paid_by(method: str) -> Callable[[SimpleNamespace], None]:
    """The completed order paid in full by ``method``; a rule gives a coupon after a paid order."""

    def arrange(w: SimpleNamespace) -> None:
        _with_coupon(w)
        coupon_rule_save(organization=w.org, data={"template": w.template, "trigger": CouponTrigger.ORDER_PAID})
        _completed(w)
        order_pay(order=w.order, by=w.advisor, method=method, amount="160.00")

    return arrange


def _lowered_to_nothing(w: SimpleNamespace) -> None:
    order_adjust(order=w.order, by=w.advisor, amount="-160.00", reason="返工，全额退款")


def _all(*steps: Callable[[SimpleNamespace], Any]) -> Callable[[SimpleNamespace], None]:
    def arrange(w: SimpleNamespace) -> None:
        for step in steps:
            step(w)

    return arrange


def _member(tier: str) -> Callable[[SimpleNamespace], None]:
    def arrange(w: SimpleNamespace) -> None:
        membership_set_tier(customer=w.customer, tier=tier, by=w.advisor)

    return arrange


# --- how each side says it ---------------------------------------------------------------------


def _orders(w: SimpleNamespace, tail: str = "") -> str:
    return f"/api/v1/orders/{w.order.pk}{tail}"


def _customers(w: SimpleNamespace, tail: str = "") -> str:
    return f"/api/v1/customers/{w.customer.pk}{tail}"


def _checkout(**fields: Any) -> Callable[[SimpleNamespace], tuple[str, dict[str, Any]]]:
    """The counter checkout's form: the rest in cash unless told; ``card=True``: the card pays the wash."""

    def page(w: SimpleNamespace) -> tuple[str, dict[str, Any]]:
        data: dict[str, Any] = {"method": "cash", "reference": ""}
        if fields.get("card"):
            data[f"card_{w.wash_line.pk}"] = w.card.pk
        if fields.get("coupon"):
            data["coupon_id"] = w.coupon.pk
        if fields.get("points"):
            data["points"] = fields["points"]
        if "stored_value" in fields:
            data["use_stored_value"] = "1"
            data["stored_value"] = fields["stored_value"] or ""
        return reverse("loyalty:checkout", args=[w.order.pk]), data

    return page


def _someone_elses_coupon(w: SimpleNamespace) -> None:
    """The same coupon given to another customer."""
    other = w.make_customer(name="李四", phone="13900001111")
    w.other_coupon = coupon_issue(customer=other, template=w.template, source=CouponTrigger.MANUAL, by=w.advisor)


def _card_line(w: SimpleNamespace) -> list[Call]:
    """The API's card use at the counter: the priced wash goes, a line the card pays comes."""
    return [
        ("DELETE", _orders(w, f"/lines/{w.wash_line.pk}"), None),
        ("POST", _orders(w, "/lines"), {"service_id": w.wash.pk, "package_card_id": w.card.pk} | _by_tech(w)),
    ]


def _by_tech(w: SimpleNamespace) -> dict[str, Any]:
    return {"technician_id": w.tech.pk}


def _pay(method: str, amount: str) -> Callable[[SimpleNamespace], Call]:
    return lambda w: ("POST", _orders(w, "/payments"), {"method": method, "amount": amount})


def _form(initial: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An edit page's form as it is shown (``initial``), with ``changes``: booleans as checkboxes."""
    data: dict[str, Any] = {}
    for key, value in {**initial, **changes}.items():
        if value is False:
            continue  # an unticked checkbox is not sent
        data[key] = "on" if value is True else "" if value is None else value
    return data


def _tier(w: SimpleNamespace, code: str) -> Tier:
    return Tier.objects.for_org(w.org).select_related("free_service").get(code=code)


def _product_initial(p: CardProduct) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "price": p.price,
        "uses": p.uses,
        "validity_days": p.validity_days,
        "binding": p.binding,
        "services": [str(pk) for pk in p.services.values_list("pk", flat=True)],
        "is_active": p.is_active,
    }


def _template_initial(t: CouponTemplate) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.name,
        "kind": t.kind,
        "value": t.value,
        "free_service": str(t.free_service_id or ""),
        "min_spend": t.min_spend,
        "days_valid": t.days_valid,
        "services": [str(pk) for pk in t.services.values_list("pk", flat=True)],
        "is_active": t.is_active,
    }


def _policy_initial(p: ReferralPolicy) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "percent": p.percent,
        "milestone": p.milestone,
        "template": p.template.code if p.template else "",
        "both_sides": p.both_sides,
        "is_active": p.is_active,
    }


def _policy(w: SimpleNamespace) -> None:
    w.policy = referral_policy_save(
        organization=w.org, data={"code": "first-3", "name": "首单3%", "kind": "first_bill_percent", "percent": "3"}
    )


def _product(w: SimpleNamespace) -> None:
    w.product = card_product_save(
        organization=w.org,
        data={"code": "wash-10", "name": "洗车10次卡", "price": "299", "uses": 10, "validity_days": 365}
        | {"binding": "vehicle", "services": [w.wash.pk]},
    )


def _for_sale(item: Callable[[SimpleNamespace], Any]) -> Callable[[SimpleNamespace], None]:
    """The completed order sells ``item(w)`` (a service item) as its only line, nothing paid yet."""

    def arrange(w: SimpleNamespace) -> None:
        w.order = w.make_order(w.car, shop=w.shop)
        w.sold = order_add_line(order=w.order, by=w.advisor, service=item(w))
        order_complete(order=w.order, by=w.advisor)

    return arrange


def _card_product(w: SimpleNamespace) -> Any:
    _product(w)
    return w.product.sale_item


def _tier_for_sale(w: SimpleNamespace) -> Any:
    tier = tier_save(
        organization=w.org,
        data={"code": "vip", "name": "VIP卡", "rank": 3, "entry_rule": "purchase", "price": "199"}
        | {"labour_discount_percent": "10"},
    )
    return tier.sale_item


def _referee(w: SimpleNamespace) -> None:
    """张三丰 brought 李四, whose first order (160.00) is done; the policy gives 3% of it."""
    _policy(w)
    referee = w.make_customer(name="李四", phone="13900001111", referrer=w.customer.pk)
    car = w.make_vehicle(referee, plate="粤B7Q1W3")
    w.order = w.make_order(car, shop=w.shop)
    order_add_line(order=w.order, by=w.advisor, service=w.wash)
    order_add_line(order=w.order, by=w.advisor, service=w.oil)
    order_complete(order=w.order, by=w.advisor)


def _gold_with_discount(w: SimpleNamespace) -> None:
    """张三丰 is a gold member (10% off labour, 5% off parts) with an order open."""
    tier_save(
        organization=w.org,
        data={"labour_discount_percent": "10", "parts_discount_percent": "5"},
        tier=_tier(w, "gold"),
    )
    membership_set_tier(customer=w.customer, tier="gold", by=w.advisor)
    w.order = w.make_order(w.car, shop=w.shop)


WRITES: list[Write] = [
    # --- membership and tiers ------------------------------------------------------------------
    Write(
        "join a customer to membership at a tier",
        page=lambda w: (reverse("loyalty:membership_set", args=[w.customer.pk]), {"tier": "gold"}),
        api=lambda w: [("POST", _customers(w, "/membership"), {"tier": "gold"})],
    ),
    Write(
        "move a member to another tier",
        arrange=_member("gold"),
        page=lambda w: (reverse("loyalty:membership_set", args=[w.customer.pk]), {"tier": "silver"}),
        api=lambda w: [("POST", _customers(w, "/membership"), {"tier": "silver"})],
    ),
    Write(
        "refuse moving a member to the tier they are in",
        arrange=_member("gold"),
        page=lambda w: (reverse("loyalty:membership_set", args=[w.customer.pk]), {"tier": "gold"}),
        api=lambda w: [("POST", _customers(w, "/membership"), {"tier": "gold"})],
        refused=errors.TIER_SAME,
        api_status=409,
    ),
    Write(
        "refuse joining at a tier that is not in use",
        arrange=lambda w: tier_save(organization=w.org, data={"is_active": False}, tier=_tier(w, "gold")),
        page=lambda w: (reverse("loyalty:membership_set", args=[w.customer.pk]), {"tier": "gold"}),
        api=lambda w: [("POST", _customers(w, "/membership"), {"tier": "gold"})],
        refused=errors.TIER_UNKNOWN,
    ),
    Write(
        "add a tier",
        user="owner",
        page=lambda w: (
            reverse("loyalty:tier_new"),
            {"code": "diamond", "name": "钻石卡", "rank": "3", "entry_rule": "spend", "entry_threshold": "20000"}
            | {"keep_threshold": "15000", "labour_discount_percent": "15", "parts_discount_percent": "10"}
            | {"points_multiplier": "2", "free_service": "D01", "free_services_per_year": "4", "is_active": "on"},
        ),
        api=lambda w: [
            (
                "POST",
                "/api/v1/loyalty/tiers",
                {"code": "diamond", "name": "钻石卡", "rank": 3, "entry_rule": "spend", "entry_threshold": "20000"}
                | {"keep_threshold": "15000", "labour_discount_percent": "15", "parts_discount_percent": "10"}
                | {"points_multiplier": "2", "free_service": "D01", "free_services_per_year": 4},
            )
        ],
    ),
    Write(
        "change a tier",
        user="owner",
        page=lambda w: (
            reverse("loyalty:tier_edit", args=[_tier(w, "gold").pk]),
            _form(TierForm.initial_for(_tier(w, "gold")), labour_discount_percent="12", keep_threshold="6000"),
        ),
        api=lambda w: [
            (
                "PATCH",
                f"/api/v1/loyalty/tiers/{_tier(w, 'gold').pk}",
                {"labour_discount_percent": "12", "keep_threshold": "6000"},
            )
        ],
    ),
    Write(
        "make a tier one bought outright",
        user="owner",
        page=lambda w: (
            reverse("loyalty:tier_edit", args=[_tier(w, "gold").pk]),
            _form(TierForm.initial_for(_tier(w, "gold")), entry_rule="purchase", price="999"),
        ),
        api=lambda w: [
            ("PATCH", f"/api/v1/loyalty/tiers/{_tier(w, 'gold').pk}", {"entry_rule": "purchase", "price": "999"})
        ],
    ),
    Write(
        "refuse a tier bought outright without a price",
        user="owner",
        page=lambda w: (
            reverse("loyalty:tier_edit", args=[_tier(w, "gold").pk]),
            _form(TierForm.initial_for(_tier(w, "gold")), entry_rule="purchase"),
        ),
        api=lambda w: [("PATCH", f"/api/v1/loyalty/tiers/{_tier(w, 'gold').pk}", {"entry_rule": "purchase"})],
        refused=errors.TIER_PRICE_REQUIRED,
    ),
    Write(
        "a member's new line carries the tier's discount",
        arrange=_gold_with_discount,
        page=lambda w: (
            reverse("service:order_line_add", args=[w.order.pk]),
            {"item": f"service:{w.oil.pk}", "quantity": "1", "unit_price": "", "discount": ""},
        ),
        api=lambda w: [("POST", _orders(w, "/lines"), {"service_id": w.oil.pk, "quantity": "1"})],
    ),
    Write(
        "paying for a tier bought outright makes the customer a member",
        arrange=_for_sale(_tier_for_sale),
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "cash", "amount": "199.00", "reference": ""},
        ),
        api=lambda w: [_pay("cash", "199.00")(w)],
    ),
    # --- stored value -------------------------------------------------------------------------
    Write(
        "top up stored value and get the bonus",
        page=lambda w: (
            reverse("loyalty:top_up", args=[w.customer.pk]),
            {"amount": "3000", "method": "wechat", "reference": "4200001234"},
        ),
        api=lambda w: [
            (
                "POST",
                _customers(w, "/stored-value/top-ups"),
                {"amount": "3000", "method": "wechat", "reference": "4200001234"},
            )
        ],
    ),
    Write(
        "top up stored value below every bonus rule",
        arrange=_topped_up("1000"),
        page=lambda w: (reverse("loyalty:top_up", args=[w.customer.pk]), {"amount": "999.99", "method": "cash"}),
        api=lambda w: [("POST", _customers(w, "/stored-value/top-ups"), {"amount": "999.99", "method": "cash"})],
    ),
    Write(
        "refuse a top-up of nothing",
        page=lambda w: (reverse("loyalty:top_up", args=[w.customer.pk]), {"amount": "0", "method": "cash"}),
        api=lambda w: [("POST", _customers(w, "/stored-value/top-ups"), {"amount": "0", "method": "cash"})],
        refused=errors.TOP_UP_AMOUNT_INVALID,
    ),
    Write(
        "refund the stored-value card: the principal back, the bonus forfeited",
        user="owner",
        arrange=_topped_up("1000"),
        page=lambda w: (
            reverse("loyalty:card_refund", args=[w.customer.pk]),
            {"method": "cash", "reason": "客户搬家"},
        ),
        api=lambda w: [("POST", _customers(w, "/stored-value/refund"), {"method": "cash", "reason": "客户搬家"})],
    ),
    Write(
        "refuse refunding a card with no principal left",
        user="owner",
        page=lambda w: (
            reverse("loyalty:card_refund", args=[w.customer.pk]),
            {"method": "cash", "reason": "客户搬家"},
        ),
        api=lambda w: [("POST", _customers(w, "/stored-value/refund"), {"method": "cash", "reason": "客户搬家"})],
        refused=errors.CARD_REFUND_NOTHING,
        api_status=409,
    ),
    Write(
        "pay an order with stored value",
        arrange=_all(_topped_up("1000"), _completed),
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "stored_value", "amount": "160.00", "reference": ""},
        ),
        api=lambda w: [_pay("stored_value", "160.00")(w)],
    ),
    Write(
        "refuse a stored-value payment over the balance",
        arrange=_all(_topped_up("100"), _completed),
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "stored_value", "amount": "160.00", "reference": ""},
        ),
        api=lambda w: [_pay("stored_value", "160.00")(w)],
        refused=said(errors.BALANCE_TOO_LOW, balance=M("100.00"), amount=M("160.00")),
        api_status=409,
    ),
    Write(
        "the counter checkout: stored value for as much as it covers",
        arrange=_all(_topped_up("100"), _completed),
        page=_checkout(stored_value=None),
        api=lambda w: [_pay("stored_value", "100.00")(w), _pay("cash", "60.00")(w)],
    ),
    Write(
        "refuse a checkout's stored value over the balance",
        arrange=_all(_topped_up("100"), _completed),
        page=_checkout(stored_value="160.00"),
        api=lambda w: [_pay("stored_value", "160.00")(w)],
        refused=said(errors.BALANCE_TOO_LOW, balance=M("100.00"), amount=M("160.00")),
        api_status=409,
    ),
    # --- package cards ------------------------------------------------------------------------
    Write(
        "add a package card product",
        user="owner",
        page=lambda w: (
            reverse("loyalty:card_product_new"),
            {"code": "wash-10", "name": "洗车10次卡", "price": "299", "uses": "10", "validity_days": "365"}
            | {"binding": "customer", "services": [str(w.wash.pk)], "is_active": "on"},
        ),
        api=lambda w: [
            (
                "POST",
                "/api/v1/loyalty/card-products",
                {"code": "wash-10", "name": "洗车10次卡", "price": "299", "uses": 10, "validity_days": 365}
                | {"binding": "customer", "services": [w.wash.pk]},
            )
        ],
    ),
    Write(
        "change a package card product",
        user="owner",
        arrange=_product,
        page=lambda w: (
            reverse("loyalty:card_product_edit", args=[w.product.pk]),
            _form(_product_initial(w.product), price="329.00", uses=12, services=[str(w.wash.pk), str(w.oil.pk)]),
        ),
        api=lambda w: [
            (
                "PATCH",
                f"/api/v1/loyalty/card-products/{w.product.pk}",
                {"price": "329.00", "uses": 12, "services": [w.wash.pk, w.oil.pk]},
            )
        ],
    ),
    Write(
        "stop selling a package card",
        user="owner",
        arrange=_product,
        page=lambda w: (
            reverse("loyalty:card_product_edit", args=[w.product.pk]),
            _form(_product_initial(w.product), is_active=False),
        ),
        api=lambda w: [("PATCH", f"/api/v1/loyalty/card-products/{w.product.pk}", {"is_active": False})],
    ),
    Write(
        "refuse a package card product whose code is taken",
        user="owner",
        arrange=_product,
        page=lambda w: (
            reverse("loyalty:card_product_new"),
            {"code": "wash-10", "name": "洗车卡", "price": "100", "uses": "3", "validity_days": "365"}
            | {"binding": "vehicle", "services": [str(w.wash.pk)], "is_active": "on"},
        ),
        api=lambda w: [
            (
                "POST",
                "/api/v1/loyalty/card-products",
                {"code": "wash-10", "name": "洗车卡", "price": "100", "uses": 3, "services": [w.wash.pk]},
            )
        ],
        refused=errors.PRODUCT_CODE_TAKEN,
    ),
    Write(
        "paying for a package card issues it, bound to the car",
        arrange=_for_sale(_card_product),
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "wechat", "amount": "299.00", "reference": ""},
        ),
        api=lambda w: [_pay("wechat", "299.00")(w)],
    ),
    Write(
        "a package card pays a line at the counter",
        arrange=_all(_with_card, _completed),
        page=_checkout(card=True),
        api=lambda w: [*_card_line(w), _pay("cash", "120.00")(w)],
    ),
    Write(
        "refuse a package card with no use left",
        arrange=_all(_with_used_up_card, _completed),
        page=_checkout(card=True),
        api=lambda w: [("POST", _orders(w, "/lines"), {"service_id": w.wash.pk, "package_card_id": w.card.pk})],
        refused=errors.CARD_NO_USES_LEFT,
        api_status=409,
    ),
    # --- coupons ------------------------------------------------------------------------------
    Write(
        "add a coupon template",
        user="owner",
        page=lambda w: (
            reverse("loyalty:coupon_template_new"),
            {"code": "pct-10", "name": "九折券", "kind": "percent", "value": "10", "min_spend": "200"}
            | {"days_valid": "30", "services": [str(w.oil.pk)], "is_active": "on"},
        ),
        api=lambda w: [
            (
                "POST",
                "/api/v1/loyalty/coupon-templates",
                {"code": "pct-10", "name": "九折券", "kind": "percent", "value": "10", "min_spend": "200"}
                | {"days_valid": 30, "services": ["BY01"]},
            )
        ],
    ),
    Write(
        "change a coupon template",
        user="owner",
        arrange=_with_coupon,
        page=lambda w: (
            reverse("loyalty:coupon_template_edit", args=[w.template.pk]),
            _form(_template_initial(w.template), value="30", min_spend="150", days_valid=60),
        ),
        api=lambda w: [
            (
                "PATCH",
                f"/api/v1/loyalty/coupon-templates/{w.template.pk}",
                {"value": "30", "min_spend": "150", "days_valid": 60},
            )
        ],
    ),
    Write(
        "refuse a coupon template of a free service without the service",
        user="owner",
        arrange=_with_coupon,
        page=lambda w: (
            reverse("loyalty:coupon_template_edit", args=[w.template.pk]),
            _form(_template_initial(w.template), kind="free_service"),
        ),
        api=lambda w: [("PATCH", f"/api/v1/loyalty/coupon-templates/{w.template.pk}", {"kind": "free_service"})],
        refused=errors.TEMPLATE_FREE_SERVICE_REQUIRED,
    ),
    Write(
        "give a customer a coupon by hand",
        arrange=_with_coupon,
        page=lambda w: (reverse("loyalty:coupon_issue", args=[w.customer.pk]), {"template": w.template.pk}),
        api=lambda w: [("POST", _customers(w, "/coupons"), {"template": "labour-20"})],
    ),
    Write(
        "a coupon takes money off an order at the counter",
        arrange=_all(_with_coupon, _completed),
        page=_checkout(coupon=True),
        api=lambda w: [
            ("POST", _orders(w, "/coupons"), {"coupon_id": w.coupon.pk}),
            _pay("cash", "140.00")(w),
        ],
    ),
    Write(
        "refuse a coupon used before",
        arrange=_all(_with_used_coupon, _completed),
        page=_checkout(coupon=True),
        api=lambda w: [("POST", _orders(w, "/coupons"), {"coupon_id": w.coupon.pk})],
        refused=said(errors.COUPON_NOT_AVAILABLE, state=Coupon.State.USED.label),
        api_status=409,
    ),
    # --- points -------------------------------------------------------------------------------
    Write(
        "points take money off an order at the counter",
        arrange=_all(_with_points("3000"), _completed),
        page=_checkout(points="2500"),
        api=lambda w: [("POST", _orders(w, "/points"), {"points": 2500}), _pay("cash", "135.00")(w)],
    ),
    Write(
        "refuse redeeming more points than the customer holds",
        arrange=_all(_with_points("300"), _completed),
        page=_checkout(points="500"),
        api=lambda w: [("POST", _orders(w, "/points"), {"points": 500})],
        refused=said(errors.POINTS_TOO_FEW, balance=300, points=500),
        api_status=409,
    ),
    Write(
        "refuse points beyond the share of the bill they may pay",
        arrange=_all(_with_points("30000"), _completed),
        page=_checkout(points="9000"),
        api=lambda w: [("POST", _orders(w, "/points"), {"points": 9000})],
        refused=said(errors.POINTS_OVER_SHARE, share=50, points=8000),
    ),
    # --- the counter checkout against the API's calls ---------------------------------------------
    Write(
        "the counter checkout: a card, a coupon, points, stored value and cash in one step",
        arrange=_all(_with_points("3000"), _with_card, _with_coupon, _topped_up("1000"), _completed),
        # 160.00: the card pays the wash (40.00), the coupon 20.00, 1,000 points 10.00, stored value 33.33,
        # and 56.67 in cash.
        page=_checkout(card=True, coupon=True, points="1000", stored_value="33.33"),
        api=lambda w: [
            *_card_line(w),
            ("POST", _orders(w, "/coupons"), {"coupon_id": w.coupon.pk}),
            ("POST", _orders(w, "/points"), {"points": 1000}),
            _pay("stored_value", "33.33")(w),
            _pay("cash", "56.67")(w),
        ],
    ),
    Write(
        "refuse another customer's coupon at the counter",
        arrange=_all(_with_coupon, _someone_elses_coupon, _completed),
        page=lambda w: (
            reverse("loyalty:checkout", args=[w.order.pk]),
            {"method": "cash", "coupon_id": w.other_coupon.pk},
        ),
        api=lambda w: [("POST", _orders(w, "/coupons"), {"coupon_id": w.other_coupon.pk})],
        refused=errors.COUPON_NOT_THEIRS,
    ),
    # --- what a void, an adjustment and a refund give back -------------------------------------------
    Write(
        "void an order: the card's use, the coupon and the points come back",
        arrange=_all(_with_points("3000"), _with_card, _with_coupon, _completed, _applied),
        page=lambda w: (reverse("service:order_void", args=[w.order.pk]), {"reason": "客户取消"}),
        api=lambda w: [("POST", _orders(w, "/void"), {"reason": "客户取消"})],
    ),
    Write(
        "lower a paid order to nothing: its points and the coupon it earned are taken back",
        arrange=_paid_by("cash"),
        page=lambda w: (
            reverse("service:order_adjust", args=[w.order.pk]),
            {"amount": "-160.00", "reason": "返工，全额退款"},
        ),
        api=lambda w: [("POST", _orders(w, "/adjustments"), {"amount": "-160.00", "reason": "返工，全额退款"})],
    ),
    Write(
        "refund an order to the stored-value card",
        arrange=_all(_topped_up("1000"), _paid_by("stored_value"), _lowered_to_nothing),
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "stored_value", "amount": "-160.00", "reference": ""},
        ),
        api=lambda w: [_pay("stored_value", "-160.00")(w)],
    ),
    # --- referrals ----------------------------------------------------------------------------
    Write(
        "add a referral policy: a coupon at the fifth referral, for both sides",
        user="owner",
        arrange=_with_coupon,
        page=lambda w: (
            reverse("loyalty:referral_policy_new"),
            {"code": "m5", "name": "第5位", "kind": "milestone_coupon", "milestone": "5", "template": "labour-20"}
            | {"both_sides": "on", "is_active": "on"},
        ),
        api=lambda w: [
            (
                "POST",
                "/api/v1/loyalty/referral-policies",
                {"code": "m5", "name": "第5位", "kind": "milestone_coupon", "milestone": 5, "template": "labour-20"}
                | {"both_sides": True},
            )
        ],
    ),
    Write(
        "change a referral policy",
        user="owner",
        arrange=_policy,
        page=lambda w: (
            reverse("loyalty:referral_policy_edit", args=[w.policy.pk]),
            _form(_policy_initial(w.policy), percent="4.5", name="首单4.5%"),
        ),
        api=lambda w: [
            ("PATCH", f"/api/v1/loyalty/referral-policies/{w.policy.pk}", {"percent": "4.5", "name": "首单4.5%"})
        ],
    ),
    Write(
        "stop a referral policy",
        user="owner",
        arrange=_policy,
        page=lambda w: (
            reverse("loyalty:referral_policy_edit", args=[w.policy.pk]),
            _form(_policy_initial(w.policy), is_active=False),
        ),
        api=lambda w: [("PATCH", f"/api/v1/loyalty/referral-policies/{w.policy.pk}", {"is_active": False})],
    ),
    Write(
        "refuse a referral share above 100%",
        user="owner",
        arrange=_policy,
        page=lambda w: (
            reverse("loyalty:referral_policy_edit", args=[w.policy.pk]),
            _form(_policy_initial(w.policy), percent="120"),
        ),
        api=lambda w: [("PATCH", f"/api/v1/loyalty/referral-policies/{w.policy.pk}", {"percent": "120"})],
        refused=errors.POLICY_PERCENT_INVALID,
    ),
    Write(
        "the referee's first paid bill rewards the referrer",
        arrange=_referee,
        page=lambda w: (
            reverse("service:order_pay", args=[w.order.pk]),
            {"method": "cash", "amount": "160.00", "reference": ""},
        ),
        api=lambda w: [_pay("cash", "160.00")(w)],
    ),
    Write(
        "set the referrer type",
        page=lambda w: (reverse("loyalty:referrer_type", args=[w.customer.pk]), {"referrer_type": "favour"}),
        api=lambda w: [("PUT", _customers(w, "/referrer-type"), {"referrer_type": "favour"})],
    ),
    Write(
        "refuse a referrer type that is not one of the four",
        page=lambda w: (reverse("loyalty:referrer_type", args=[w.customer.pk]), {"referrer_type": "money"}),
        api=lambda w: [("PUT", _customers(w, "/referrer-type"), {"referrer_type": "money"})],
        refused=errors.REFERRER_TYPE_INVALID,
    ),
]


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    tech: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
) -> SimpleNamespace:
    """A customer with a car; a wash (40.00) and an oil change (120.00); the top-up bonus rules
    1,000 → 100 and 3,000 → 400; the tiers silver (3,000 a year) and gold (8,000), no discounts."""
    shop: Shop = first_shop(org)
    customer = make_customer(name="张三丰", phone="13812345678")
    car = make_vehicle(customer, plate="粤B5K2M8")
    wash = service_item_save(
        organization=org, data={"code": "D01", "name": "标准洗车", "category": "detailing", "labour_price": "40.00"}
    )
    oil = service_item_save(
        organization=org, data={"code": "BY01", "name": "机油更换", "category": "maintenance", "labour_price": "120.00"}
    )
    TopUpRule.objects.create(organization=org, minimum=M("1000"), bonus=M("100"))
    TopUpRule.objects.create(organization=org, minimum=M("3000"), bonus=M("400"))
    for code, name, rank, threshold in (("silver", "银卡", 1, "3000"), ("gold", "金卡", 2, "8000")):
        tier_save(
            organization=org,
            data={"code": code, "name": name, "rank": rank, "entry_rule": "spend", "entry_threshold": threshold}
            | {"keep_threshold": threshold},
        )
    users = {"owner": owner, "advisor": advisor, "tech": tech}
    return SimpleNamespace(
        org=org,
        shop=shop,
        customer=customer,
        car=car,
        wash=wash,
        oil=oil,
        make_order=make_order,
        make_customer=make_customer,
        make_vehicle=make_vehicle,
        users=users,
        **users,
    )


def _send(client: Client, method: str, path: str, data: Json) -> Any:
    if method == "DELETE":
        return client.delete(path)
    body = "" if data is None else json.dumps(data)
    return client.generic(method, path, body, content_type="application/json")


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, dict[str, Any]]:
    """Send the write through one channel in a savepoint; answer the (last) response and the rows left."""
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = client.post(url, data, follow=True)
        else:
            calls = write.api(w)
            for number, (method, path, body) in enumerate(calls, start=1):
                response = _send(client, method, path, body)
                if number < len(calls):
                    assert response.status_code in (200, 201, 204), (path, response.content.decode())
        after = everything(w.org)
        transaction.set_rollback(True)
    return response, after


def _api_messages(response: Any) -> list[str]:
    doc = response.json()
    return [doc.get("detail", "")] + [m for messages in (doc.get("errors") or {}).values() for m in messages]


def _differences(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Per table that differs: the rows only the first has, and those only the other has."""
    return {
        table: {
            "only first": [r for r in rows if r not in other[table]],
            "only other": [r for r in other[table] if r not in rows],
        }
        for table, rows in one.items()
        if rows != other[table]
    }


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree_on_membership(
    write: Write, world: SimpleNamespace, client_for: Callable[[User], Client]
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = everything(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, ApiClient(token_create(user=user, name="tests")[1]))

    assert page.status_code in ((200,) if write.refused is None else (200, 422)), page.content.decode()[:500]
    if write.refused is None:
        assert api.status_code in (200, 201, 204), api.content.decode()
        assert by_page != before, "the page stored nothing"
    else:
        message = write.refused() if callable(write.refused) else zh(write.refused)
        assert api.status_code == write.api_status, api.content.decode()
        assert message in _api_messages(api)
        shown = escape(message) in page.content.decode()
        assert shown, f"the page does not say: {message}"
        assert not (stored_by_page := _differences(by_page, before)), f"the page stored: {stored_by_page}"
    assert not (disagree := _differences(by_page, by_api)), f"the page (first) and the API (other) differ: {disagree}"
