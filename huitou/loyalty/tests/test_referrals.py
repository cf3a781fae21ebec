"""Referral rewards: timing, the abuse guards, reversal, the graph, policies, pages and API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer
from huitou.customers.services import customer_create, customer_update, household_link, vehicle_transfer
from huitou.loyalty import errors
from huitou.loyalty.models import LoyaltyAccount, ReferralPolicy, ReferralReward, ReferrerType, StoredValueEntry
from huitou.loyalty.selectors.referrals import referral_leaderboard, referrals_for_customer
from huitou.loyalty.services.referrals import (
    referral_policy_save,
    referral_rewards_grant,
    referrer_check,
    referrer_type_set,
)
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import order_add_line, order_adjust, order_complete, order_pay
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

MONEY = Decimal


@pytest.fixture
def percent_policy(org: Organization) -> ReferralPolicy:
    return referral_policy_save(
        organization=org,
        data={"code": "first-bill-3", "name": "首单3%储值奖励", "kind": "first_bill_percent", "percent": "3"},
    )


@pytest.fixture
def pay(
    advisor: User, make_vehicle: Callable[..., Any], make_order: Callable[..., ServiceOrder], make_service_item: Any
) -> Callable[..., ServiceOrder]:
    """``pay(customer, price)``: an order of one service at ``price`` for the customer's car, completed and paid."""
    item = make_service_item(labour_price="200.00")

    def run(customer: Customer, price: str = "200.00", *, settle: bool = True) -> ServiceOrder:
        vehicle = customer.vehicles.first() or make_vehicle(customer)
        order = make_order(vehicle=vehicle)
        order_add_line(order=order, by=advisor, service=item, unit_price=price)
        order_complete(order=order, by=advisor)
        if settle:
            order_pay(order=order, by=advisor, method="cash", amount=order.total)
        return order

    return run


def _account(customer: Customer) -> LoyaltyAccount | None:
    return LoyaltyAccount.objects.for_org(customer.organization_id).filter(customer=customer).first()


def _rewards(org: Organization) -> list[ReferralReward]:
    return list(ReferralReward.objects.for_org(org).order_by("pk"))


def _referred(make_customer: Callable[..., Customer], referrer: Customer, **data: Any) -> Customer:
    return make_customer(referrer=referrer.pk, **data)


# --- reward timing ------------------------------------------------------------------------------


def test_the_referrer_gets_3_percent_of_the_first_bill_when_it_is_paid_not_before(
    org, advisor, make_customer, pay, percent_policy
) -> None:
    referrer = make_customer(name="王老客")
    referee = _referred(make_customer, referrer, name="张新客")
    order = pay(referee, "350.00", settle=False)
    assert _rewards(org) == [] and _account(referrer) is None  # completed, not paid: nothing yet
    order_pay(order=order, by=advisor, method="cash", amount="350.00")

    [reward] = _rewards(org)
    assert (reward.referrer_id, reward.referee_id, reward.order_id, reward.amount) == (
        referrer.pk,
        referee.pk,
        order.pk,
        MONEY("10.50"),
    )
    account = _account(referrer)
    assert account is not None
    assert (account.stored_principal, account.stored_bonus) == (MONEY("0.00"), MONEY("10.50"))
    entry = reward.stored_value_entry
    assert entry is not None
    assert (entry.kind, entry.customer_id, entry.bonus, entry.bonus_after, entry.order_id) == (
        StoredValueEntry.Kind.REWARD,
        referrer.pk,
        MONEY("10.50"),
        MONEY("10.50"),
        order.pk,
    )
    # The referee gets nothing from this policy.
    assert not StoredValueEntry.objects.for_org(org).filter(customer=referee).exists()


def test_only_the_first_paid_order_earns_a_reward(org, make_customer, pay, percent_policy) -> None:
    referrer = make_customer()
    referee = _referred(make_customer, referrer)
    pay(referee, "100.00")
    pay(referee, "900.00")
    assert [r.amount for r in _rewards(org)] == [MONEY("3.00")]
    assert _account(referrer).stored_bonus == MONEY("3.00")  # type: ignore[union-attr]


def test_a_customer_who_paid_before_being_referred_earns_nothing(org, advisor, make_customer, pay, percent_policy):
    referrer = make_customer()
    customer = make_customer()
    pay(customer)
    customer.refresh_from_db()
    customer_update(customer=customer, by=advisor, data={"referrer": referrer.pk})  # named late: kept, no reward
    pay(customer)
    assert _rewards(org) == []


def test_no_referrer_no_inactive_policy_no_reward(org, make_customer, pay, percent_policy) -> None:
    pay(make_customer())
    referral_policy_save(organization=org, data={"is_active": False}, policy=percent_policy)
    pay(_referred(make_customer, make_customer()))
    assert _rewards(org) == []


def test_a_reward_is_granted_once_per_referee(org, advisor, make_customer, pay, percent_policy) -> None:
    referee = _referred(make_customer, make_customer())
    order = pay(referee)
    assert referral_rewards_grant(order=order, by=advisor) == []  # the event again: nothing new
    assert len(_rewards(org)) == 1


def test_no_reward_when_a_guard_refuses_the_pair_at_payment(org, advisor, make_customer, pay, percent_policy):
    referrer = make_customer()
    referee = _referred(make_customer, referrer)
    household_link(customer=referee, other=referrer, by=advisor)  # they turn out to be one family
    pay(referee)
    assert _rewards(org) == []


def test_a_zero_bill_earns_no_bonus(org, make_customer, pay, percent_policy) -> None:
    pay(_referred(make_customer, make_customer()), "0.00")
    assert _rewards(org) == []


# --- reversal -----------------------------------------------------------------------------------


def test_the_reward_is_reversed_when_the_first_order_is_adjusted_to_zero(
    org, advisor, make_customer, pay, percent_policy
) -> None:
    referrer = make_customer()
    order = pay(_referred(make_customer, referrer), "200.00")
    order_adjust(order=order, by=advisor, amount="-50.00", reason="工时打折")
    [reward] = _rewards(org)
    assert reward.state == ReferralReward.State.GRANTED  # a partial refund keeps it

    order_adjust(order=order, by=advisor, amount="-150.00", reason="全额退款")
    reward.refresh_from_db()
    assert reward.state == ReferralReward.State.REVERSED and reward.reversed_at is not None
    assert _account(referrer).stored_bonus == MONEY("0.00")  # type: ignore[union-attr]
    reversal = StoredValueEntry.objects.for_org(org).get(kind=StoredValueEntry.Kind.REVERSE)
    assert (reversal.bonus, reversal.bonus_after, reversal.reverses_id) == (
        MONEY("-6.00"),
        MONEY("0.00"),
        reward.stored_value_entry_id,
    )
    # A ledger: the reward entry is still there, the sum is the balance.
    entries = StoredValueEntry.objects.for_org(org).filter(customer=referrer)
    assert sum(e.bonus for e in entries) == MONEY("0.00") and entries.count() == 2


def test_a_reversal_takes_back_only_the_unspent_bonus(org, advisor, make_customer, pay, percent_policy) -> None:
    referrer = make_customer()
    order = pay(_referred(make_customer, referrer), "200.00")
    account = _account(referrer)
    assert account is not None
    LoyaltyAccount.objects.for_org(org).filter(pk=account.pk).update(stored_bonus=MONEY("2.00"))  # 4.00 spent
    order_adjust(order=order, by=advisor, amount="-200.00", reason="全额退款")
    assert _account(referrer).stored_bonus == MONEY("0.00")  # type: ignore[union-attr]
    reversal = StoredValueEntry.objects.for_org(org).get(kind=StoredValueEntry.Kind.REVERSE)
    assert reversal.bonus == MONEY("-2.00")


# --- milestone coupon ---------------------------------------------------------------------------


def test_the_fifth_converted_referral_gives_both_sides_a_coupon(org, make_customer, pay) -> None:
    coupons = pytest.importorskip("huitou.loyalty.services.coupons")
    template = coupons.coupon_template_save(
        organization=org, data={"code": "m5", "name": "20元工时券", "kind": "amount", "value": "20"}
    )
    referral_policy_save(
        organization=org,
        data={
            "code": "fifth",
            "name": "第5位转介绍送保养",
            "kind": "milestone_coupon",
            "milestone": 5,
            "template": template.code,
            "both_sides": True,
        },
    )
    referrer = make_customer()
    referees = [_referred(make_customer, referrer) for _ in range(6)]
    for referee in referees[:4]:
        pay(referee)
    assert _rewards(org) == []
    pay(referees[4])
    [reward] = _rewards(org)
    assert (reward.milestone, reward.referee_id) == (5, referees[4].pk)
    assert reward.referrer_coupon.customer_id == referrer.pk  # type: ignore[union-attr]
    assert reward.referee_coupon.customer_id == referees[4].pk  # type: ignore[union-attr]
    pay(referees[5])
    assert len(_rewards(org)) == 1  # the 6th: the milestone is behind


def test_the_milestone_coupons_are_revoked_when_the_order_that_reached_it_is_refunded_to_zero(
    org, advisor, make_customer, pay
) -> None:
    coupons = pytest.importorskip("huitou.loyalty.services.coupons")
    template = coupons.coupon_template_save(
        organization=org, data={"code": "m2", "name": "20元工时券", "kind": "amount", "value": "20"}
    )
    referral_policy_save(
        organization=org,
        data={"code": "second", "name": "第2位", "kind": "milestone_coupon", "milestone": 2, "template": "m2"}
        | {"both_sides": True},
    )
    referrer = make_customer()
    pay(_referred(make_customer, referrer))
    order = pay(_referred(make_customer, referrer))
    order_adjust(order=order, by=advisor, amount=f"-{order.total}", reason="全额退款")
    [reward] = _rewards(org)
    assert reward.state == ReferralReward.State.REVERSED
    assert [reward.referrer_coupon.state, reward.referee_coupon.state] == ["revoked", "revoked"]  # type: ignore[union-attr]
    assert template.pk == reward.referrer_coupon.template_id  # type: ignore[union-attr]


# --- abuse guards -------------------------------------------------------------------------------


def test_a_file_with_the_referrers_own_phone_is_refused(org, advisor, make_customer) -> None:
    referrer = make_customer(phone="13912345678")
    with pytest.raises(ValidationError) as refused:
        customer_create(
            organization=org, by=advisor, data={"name": "李四", "phone": "13912345678", "referrer": referrer.pk}
        )
    assert refused.value.message_dict["referrer"] == [errors.REFERRER_SAME_PHONE]


def test_someone_of_the_same_household_cannot_refer(org, advisor, make_customer) -> None:
    referrer, customer = make_customer(), make_customer()
    household_link(customer=customer, other=referrer, by=advisor)
    customer.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        customer_update(customer=customer, by=advisor, data={"referrer": referrer.pk})
    assert refused.value.message_dict["referrer"] == [errors.REFERRER_SAME_HOUSEHOLD]


def test_someone_who_owned_one_of_the_customers_cars_cannot_refer(org, advisor, make_customer, make_vehicle) -> None:
    referrer, customer = make_customer(), make_customer()
    vehicle_transfer(vehicle=make_vehicle(referrer), to_customer=customer, by=advisor)
    with pytest.raises(ValidationError) as refused:
        customer_update(customer=customer, by=advisor, data={"referrer": referrer.pk})
    assert refused.value.message_dict["referrer"] == [errors.REFERRER_SAME_VEHICLE]


def test_two_customers_cannot_refer_each_other(org, advisor, make_customer) -> None:
    first = make_customer(name="甲")
    second = _referred(make_customer, first)
    with pytest.raises(ValidationError) as refused:
        customer_update(customer=first, by=advisor, data={"referrer": second.pk})
    assert refused.value.message_dict["referrer"] == [errors.REFERRER_EACH_OTHER % {"name": second.name}]


def test_the_referrer_is_fixed_once_the_first_order_is_paid(org, advisor, make_customer, pay) -> None:
    first, second, third = make_customer(), make_customer(), make_customer()
    customer = _referred(make_customer, first)
    customer_update(customer=customer, by=advisor, data={"referrer": second.pk})  # a correction before paying
    pay(customer)
    customer.refresh_from_db()
    for other in (third.pk, None):
        with pytest.raises(ValidationError) as refused:
            customer_update(customer=customer, by=advisor, data={"referrer": other})
        assert refused.value.message_dict["referrer"] == [errors.REFERRER_FIXED]
    customer_update(customer=customer, by=advisor, data={"referrer": second.pk, "need": "洗车"})  # unchanged: fine
    assert Customer.objects.for_org(org).get(pk=customer.pk).referrer_id == second.pk


def test_referrer_check_accepts_a_stranger(org, make_customer) -> None:
    referrer_check(customer=make_customer(), referrer=make_customer())


def _api(user: User) -> ApiClient:
    return ApiClient(token_create(user=user, name="tests")[1])


def test_the_api_refuses_a_household_referrer_with_the_services_message(org, advisor, make_customer) -> None:
    referrer, customer = make_customer(), make_customer(name="赵六")
    household_link(customer=customer, other=referrer, by=advisor)
    r = _api(advisor).patch_json(f"/api/v1/customers/{customer.pk}", {"referrer_id": referrer.pk})
    assert r.status_code == 422
    assert r.json()["errors"]["referrer_id"] == [zh(errors.REFERRER_SAME_HOUSEHOLD)]
    assert Customer.objects.for_org(org).get(pk=customer.pk).referrer_id is None


# --- referrer type ------------------------------------------------------------------------------


def test_staff_set_the_referrer_type_and_the_file_shows_it(org, advisor, make_customer, client_for) -> None:
    customer = make_customer()
    referrer_type_set(customer=customer, referrer_type=ReferrerType.HONOUR, by=advisor)
    assert _account(customer).referrer_type == "honour"  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as refused:
        referrer_type_set(customer=customer, referrer_type="greedy", by=advisor)
    assert refused.value.message_dict["referrer_type"] == [errors.REFERRER_TYPE_INVALID]

    r = _api(advisor).put(
        f"/api/v1/customers/{customer.pk}/referrer-type", '{"referrer_type": "favour"}', content_type="application/json"
    )
    assert (r.status_code, r.json()["referrer_type"]) == (200, "favour")
    page = client_for(advisor).post(
        reverse("loyalty:referrer_type", args=[customer.pk]), {"referrer_type": "friendship"}
    )
    assert page.status_code == 302
    assert _account(customer).referrer_type == "friendship"  # type: ignore[union-attr]
    assert referrals_for_customer(customer)["referrer_type_label"] == ReferrerType.FRIENDSHIP.label


# --- the graph and the leaderboard --------------------------------------------------------------


def test_the_graph_shows_whom_a_customer_brought_and_what_it_earned(
    org, advisor, make_customer, pay, percent_policy, django_assert_num_queries
) -> None:
    referrer = make_customer(name="王老客")
    paid = _referred(make_customer, referrer, name="张新客")
    _referred(make_customer, referrer, name="李潜客")
    pay(paid, "500.00")
    referrer.refresh_from_db()
    # 1 the referees, 2 their rewards with the policy, 3 the account (the referrer type)
    with django_assert_num_queries(3):
        graph = referrals_for_customer(referrer)
    assert (graph["count"], graph["converted"], graph["revenue"], graph["rewards"]) == (
        2,
        1,
        MONEY("500.00"),
        MONEY("15.00"),
    )
    assert [(i["name"], i["converted"], i["rewards"]) for i in graph["items"]] == [
        ("李潜客", False, MONEY("0.00")),
        ("张新客", True, MONEY("15.00")),
    ]
    r = _api(advisor).get(f"/api/v1/customers/{referrer.pk}/referrals")
    body = r.json()
    assert {k: body[k] for k in ("count", "converted", "revenue", "rewards")} == {
        "count": 2,
        "converted": 1,
        "revenue": "500.00",
        "rewards": "15.00",
    }
    assert [i["name"] for i in body["items"]] == ["李潜客", "张新客"]


def test_the_leaderboard_ranks_referrers_by_converted_referrals(
    org, advisor, make_customer, pay, percent_policy, client_for
) -> None:
    best, second = make_customer(name="冠军"), make_customer(name="亚军")
    for _ in range(2):
        pay(_referred(make_customer, best))
    pay(_referred(make_customer, second), "900.00")
    _referred(make_customer, second)
    rows = referral_leaderboard(organization=org)
    assert [(r["name"], r["brought"], r["converted"], r["rewards"]) for r in rows] == [
        ("冠军", 2, 2, MONEY("12.00")),
        ("亚军", 2, 1, MONEY("27.00")),
    ]
    since = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert referral_leaderboard(organization=org, since=since) == []
    page = client_for(advisor).get(reverse("loyalty:referral_leaderboard") + "?period=90")
    assert page.status_code == 200 and "冠军" in page.content.decode()
    assert _api(advisor).get("/api/v1/loyalty/referral-leaderboard").json()["items"][0]["name"] == "冠军"


# --- policies -----------------------------------------------------------------------------------


def test_the_store_manager_creates_lists_and_changes_policies_through_the_api(org, owner, advisor) -> None:
    api = _api(owner)
    r = api.post_json(
        "/api/v1/loyalty/referral-policies",
        {"code": "first-5", "name": "首单5%", "kind": "first_bill_percent", "percent": "5"},
    )
    assert r.status_code == 201, r.content
    policy_id = r.json()["id"]
    assert r.json()["percent"] == "5.00"
    r = api.patch_json(f"/api/v1/loyalty/referral-policies/{policy_id}", {"is_active": False})
    assert r.json()["is_active"] is False
    assert [p["code"] for p in api.get("/api/v1/loyalty/referral-policies").json()["items"]] == ["first-5"]
    r = api.post_json("/api/v1/loyalty/referral-policies", {"code": "m", "name": "里程碑", "kind": "milestone_coupon"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"milestone", "template"}
    r = api.post_json(
        "/api/v1/loyalty/referral-policies",
        {"code": "first-5", "name": "重复", "kind": "first_bill_percent", "percent": "1"},
    )
    assert r.json()["errors"]["code"] == [zh(errors.POLICY_CODE_TAKEN)]
    assert _api(advisor).get("/api/v1/loyalty/referral-policies").status_code == 403


def test_the_policy_pages_save_through_the_service(org, owner, advisor, client_for) -> None:
    client = client_for(owner)
    r = client.post(
        reverse("loyalty:referral_policy_new"),
        {"code": "first-3", "name": "首单3%", "kind": "first_bill_percent", "percent": "3", "is_active": "on"},
    )
    assert r.status_code == 302
    policy = ReferralPolicy.objects.for_org(org).get(code="first-3")
    r = client.post(
        reverse("loyalty:referral_policy_edit", args=[policy.pk]),
        {"code": "first-3", "name": "首单3%", "kind": "first_bill_percent", "percent": "0"},
    )
    assert zh(errors.POLICY_PERCENT_INVALID) in r.content.decode()
    assert client.get(reverse("loyalty:referral_policies")).status_code == 200
    assert client_for(advisor).get(reverse("loyalty:referral_policies")).status_code == 403


# --- isolation ----------------------------------------------------------------------------------


def test_another_organizations_staff_reach_none_of_it(org, owner, outsider, make_customer, client_for, percent_policy):
    customer = make_customer()
    api, client = _api(outsider), client_for(outsider)
    assert api.get(f"/api/v1/customers/{customer.pk}/referrals").status_code == 404
    r = api.put(
        f"/api/v1/customers/{customer.pk}/referrer-type", '{"referrer_type": "honour"}', content_type="application/json"
    )
    assert r.status_code == 404
    assert api.patch_json(f"/api/v1/loyalty/referral-policies/{percent_policy.pk}", {"name": "x"}).status_code == 404
    assert client.get(reverse("loyalty:referral_policy_edit", args=[percent_policy.pk])).status_code == 404
    assert (
        client.post(reverse("loyalty:referrer_type", args=[customer.pk]), {"referrer_type": "honour"}).status_code
        == 404
    )
    assert api.get("/api/v1/loyalty/referral-policies").json()["items"] == []
    assert referral_leaderboard(organization=outsider.organization_id) == []
    assert _account(customer) is None


def test_the_panel_part_shows_the_graph_and_the_referrer_type_form(org, advisor, make_customer, pay, percent_policy):
    from django.template.loader import render_to_string

    referrer = make_customer(name="王老客")
    pay(_referred(make_customer, referrer, name="张新客"), "500.00")
    referrer_type_set(customer=referrer, referrer_type=ReferrerType.BENEFIT, by=advisor)
    html = render_to_string(
        "loyalty/referrals_panel.html",
        {"referrals": referrals_for_customer(referrer), "customer": referrer, "role_perms": {"customers.edit"}},
    )
    assert "张新客" in html and "¥500.00" in html and "¥15.00" in html
    assert '<option value="benefit" selected>' in html
    assert reverse("loyalty:referrer_type", args=[referrer.pk]) in html
