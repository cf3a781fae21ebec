"""Referral rewards (转介绍奖励): policies, the guard on who may refer whom, rewards and their reversal.

A customer's referrer is set on the file (``Customer.referrer``) by the
customer services, which call ``referrer_check`` first, so the prospect
capture, the file's form and the API refuse the same referrers with the same
message. When a referee's **first** order is paid, every active policy grants
its reward once for that referee: a share of the bill as stored-value bonus
to the referrer, or a coupon to the referrer (and the referee) at the
referrer's n-th converted referral. When that order's total is adjusted to
0 (a full refund), the rewards it earned are reversed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.customers.models import Customer, Vehicle, VehicleOwnership
from huitou.lib.money import round_fen
from huitou.loyalty import errors
from huitou.loyalty.models import (
    CouponTemplate,
    CouponTrigger,
    LoyaltyAccount,
    ReferralPolicy,
    ReferralReward,
    ReferrerType,
)
from huitou.loyalty.services.accounts import account_locked
from huitou.loyalty.services.stored_value import stored_value_reward, stored_value_reward_reverse
from huitou.service.models import OrderState, ServiceOrder
from huitou.tenancy.models import Organization, User

ZERO = Decimal("0.00")
MAX_MILESTONE = 1000


# --- who may refer whom -------------------------------------------------------------------------


def _vehicle_ids(customer_id: int, organization_id: int) -> set[int]:
    """The cars a customer has or had (current owner, or an ownership on record)."""
    now = set(Vehicle.objects.for_org(organization_id).filter(customer_id=customer_id).values_list("pk", flat=True))
    past = VehicleOwnership.objects.for_org(organization_id).filter(customer_id=customer_id)
    return now | set(past.values_list("vehicle_id", flat=True))


def referrer_refusal(*, customer: Customer, referrer: Customer) -> Any | None:
    """Why ``referrer`` may not be ``customer``'s referrer (a message), or None.

    The abuse guards: not the same phone, not the same household, no car the
    two share or shared, and not each other's referrer. ``customer`` may be
    unsaved (a file being registered: its phone and household as entered).
    """
    if customer.phone and customer.phone == referrer.phone:
        return errors.REFERRER_SAME_PHONE
    if customer.household_id is not None and customer.household_id == referrer.household_id:
        return errors.REFERRER_SAME_HOUSEHOLD
    if customer.pk is None:
        return None
    if referrer.referrer_id == customer.pk:
        return errors.REFERRER_EACH_OTHER % {"name": referrer.name}
    org_id = customer.organization_id
    if _vehicle_ids(customer.pk, org_id) & _vehicle_ids(referrer.pk, org_id):
        return errors.REFERRER_SAME_VEHICLE
    return None


def referrer_check(*, customer: Customer, referrer: Customer | None) -> None:
    """Refuse setting ``referrer`` (None: none) on ``customer``: ``ValidationError({"referrer": [...]})``.

    The customer services call it wherever the referrer is set (registering a
    file or a prospect, changing a file), so the page and the API refuse
    alike. One referrer per customer: once the customer's first order is
    paid, the referrer on the file is the one rewarded and stays.
    """
    if customer.pk is not None:
        before = (
            Customer.objects.for_org(customer.organization_id)
            .filter(pk=customer.pk)
            .values_list("referrer_id", "visit_count")
            .first()
        )
        if before is not None:
            referrer_before, visits = before
            if referrer_before == (referrer.pk if referrer is not None else None):
                return  # unchanged: a referral accepted before stays
            if referrer_before is not None and visits > 0:
                raise ValidationError({"referrer": [errors.REFERRER_FIXED]})
    if referrer is None:
        return
    refusal = referrer_refusal(customer=customer, referrer=referrer)
    if refusal is not None:
        raise ValidationError({"referrer": [refusal]})


def referrer_type_set(*, customer: Customer, referrer_type: str, by: User | None) -> LoyaltyAccount:
    """Record why a customer brings others (荣誉型, 利益型, 人情型, 友情型; blank: not known)."""
    referrer_type = (referrer_type or "").strip()
    if referrer_type and referrer_type not in ReferrerType.values:
        raise ValidationError({"referrer_type": [errors.REFERRER_TYPE_INVALID]})
    with transaction.atomic():
        account = account_locked(customer)
        if account.referrer_type != referrer_type:
            account.referrer_type = referrer_type
            account.save(update_fields=["referrer_type"])
    return account


# --- policies -----------------------------------------------------------------------------------

POLICY_FIELDS = ("code", "name", "kind", "percent", "milestone", "template", "both_sides", "is_active")


def referral_policy_save(
    *, organization: Organization, data: Mapping[str, Any], policy: ReferralPolicy | None = None
) -> ReferralPolicy:
    """Create or change a policy; ``data`` holds the fields to set (``template``: a coupon template's code).

    A share of the first bill needs a percent above 0; a milestone coupon needs
    the milestone (the n-th converted referral) and a template. Rewards already
    granted stay as they were.
    """
    policy = policy or ReferralPolicy(organization=organization)
    problems: dict[str, list[Any]] = {}
    for field in ("code", "name"):
        if field in data:
            setattr(policy, field, str(data[field] or "").strip())
    if not policy.code:
        problems["code"] = [errors.POLICY_CODE_REQUIRED]
    if not policy.name:
        problems["name"] = [errors.POLICY_NAME_REQUIRED]
    if "kind" in data:
        if data["kind"] not in ReferralPolicy.Kind.values:
            problems["kind"] = [errors.POLICY_KIND_INVALID]
        else:
            policy.kind = data["kind"]
    elif not policy.kind:
        problems["kind"] = [errors.POLICY_KIND_INVALID]
    if "percent" in data:
        try:
            policy.percent = Decimal(str(data["percent"] if data["percent"] not in (None, "") else "0"))
        except InvalidOperation:
            problems["percent"] = [errors.POLICY_PERCENT_INVALID]
    if "milestone" in data:
        value = data["milestone"]
        if value in (None, ""):
            policy.milestone = None
        elif not str(value).isdigit() or not 1 <= int(value) <= MAX_MILESTONE:
            problems["milestone"] = [errors.POLICY_MILESTONE_INVALID]
        else:
            policy.milestone = int(value)
    if "template" in data:
        code = str(data["template"] or "").strip()
        template = CouponTemplate.objects.for_org(organization).filter(code=code).first() if code else None
        if code and template is None:
            problems["template"] = [errors.POLICY_TEMPLATE_INVALID]
        policy.template = template
    for field in ("both_sides", "is_active"):
        if field in data and data[field] is not None:
            setattr(policy, field, bool(data[field]))
    percent_ok = ZERO < policy.percent <= 100 and policy.percent == policy.percent.quantize(Decimal("0.01"))
    if policy.kind == ReferralPolicy.Kind.FIRST_BILL_PERCENT and "percent" not in problems and not percent_ok:
        problems["percent"] = [errors.POLICY_PERCENT_INVALID]
    if policy.kind == ReferralPolicy.Kind.MILESTONE_COUPON:
        if policy.milestone is None and "milestone" not in problems:
            problems["milestone"] = [errors.POLICY_MILESTONE_INVALID]
        if policy.template_id is None and "template" not in problems:
            problems["template"] = [errors.POLICY_TEMPLATE_INVALID]
    if policy.code and "code" not in problems:
        try:
            ReferralPolicy._meta.get_field("code").clean(policy.code, policy)
        except ValidationError:
            problems["code"] = [errors.POLICY_CODE_REQUIRED]
        else:
            taken = ReferralPolicy.objects.for_org(organization).filter(code=policy.code)
            if taken.exclude(pk=policy.pk).exists():
                problems["code"] = [errors.POLICY_CODE_TAKEN]
    if len(policy.name) > 60:
        problems.setdefault("name", []).append(errors.POLICY_NAME_REQUIRED)
    if problems:
        raise ValidationError(problems)
    policy.save()
    return policy


# --- rewards ------------------------------------------------------------------------------------


def converted_referrals(*, referrer: Customer) -> int:
    """How many of the customers ``referrer`` brought have a paid order (their files active)."""
    return (
        Customer.objects.for_org(referrer.organization_id)
        .active()
        .filter(referrer_id=referrer.pk, visit_count__gt=0)
        .count()
    )


def referral_rewards_grant(
    *, order: ServiceOrder, by: User | None, now: dt.datetime | None = None, referee: Customer | None = None
) -> list[ReferralReward]:
    """The rewards of a paid order, if it is its customer's first and the customer was referred.

    Called on ``order_paid`` inside the payment's transaction. The referrer's
    account row is locked first, so two of their referees paying at once count
    the referrer's converted referrals one after the other (a milestone is
    granted once). Nothing is granted when a guard refuses the pair now (a
    household or a car joined them after the referral). ``referee``: the
    order's customer, when the caller has read it (no query for a customer
    nobody referred).
    """
    org_id = order.organization_id
    if referee is None or referee.pk != order.customer_id:
        referee = Customer.objects.for_org(org_id).filter(pk=order.customer_id).first()
    if referee is None or referee.referrer_id is None:
        return []
    paid = ServiceOrder.objects.for_org(org_id).filter(customer_id=referee.pk, state=OrderState.PAID)
    if paid.exclude(pk=order.pk).exists():
        return []  # not the first paid order
    referrer = Customer.objects.for_org(org_id).active().filter(pk=referee.referrer_id).first()
    if referrer is None or referrer_refusal(customer=referee, referrer=referrer) is not None:
        return []
    policies = list(ReferralPolicy.objects.for_org(org_id).filter(is_active=True).select_related("template"))
    if not policies:
        return []
    now = now or timezone.now()
    account_locked(referrer)
    done = set(ReferralReward.objects.for_org(org_id).filter(referee=referee).values_list("policy_id", flat=True))
    granted: list[ReferralReward] = []
    converted: int | None = None
    for policy in policies:
        if policy.pk in done:
            continue  # once per referee
        reward = ReferralReward(
            organization_id=org_id, policy=policy, referrer=referrer, referee=referee, order=order, granted_at=now
        )
        if policy.kind == ReferralPolicy.Kind.FIRST_BILL_PERCENT:
            amount = round_fen(order.total * policy.percent / 100)
            if amount <= 0:
                continue
            reward.amount = amount
            reward.stored_value_entry = stored_value_reward(
                customer=referrer,
                bonus=amount,
                reason=f"{policy.name} · {referee.name} {order.number}",
                order=order,
                by=by,
                now=now,
            )
        elif policy.kind == ReferralPolicy.Kind.MILESTONE_COUPON:
            if policy.milestone is None or policy.template is None:
                continue
            if converted is None:
                converted = converted_referrals(referrer=referrer)
            if converted < policy.milestone:
                continue
            if (
                ReferralReward.objects.for_org(org_id)
                .filter(policy=policy, referrer=referrer, milestone=policy.milestone)
                .exists()
            ):
                continue  # this milestone was reached before
            reward.milestone = policy.milestone
            reward.referrer_coupon, reward.referee_coupon = _milestone_coupons(
                policy=policy, referrer=referrer, referee=referee, order=order, by=by, now=now
            )
        else:
            continue
        reward.save()
        granted.append(reward)
    return granted


def _milestone_coupons(
    *, policy: ReferralPolicy, referrer: Customer, referee: Customer, order: ServiceOrder, by: User | None, now: Any
) -> tuple[Any, Any]:
    """The policy's coupon to the referrer, and to the referee when it is for both sides."""
    # Imported here: the coupon service imports the order services, which import the customer
    # services, which import this module's referrer check.
    from huitou.loyalty.services.coupons import coupon_issue

    template = policy.template
    assert template is not None

    def issue(customer: Customer) -> Any:
        return coupon_issue(
            customer=customer,
            template=template,
            source=CouponTrigger.REFERRAL,
            by=by,
            origin_order=order,
            now=now,
        )

    return issue(referrer), issue(referee) if policy.both_sides else None


def referral_rewards_reverse(
    *, order: ServiceOrder, by: User | None, now: dt.datetime | None = None
) -> list[ReferralReward]:
    """Reverse the rewards an order earned once its total is 0 (adjusted down to nothing, refunded).

    The stored-value bonus is taken back as far as it is unspent; the
    coupons, issued with the order as their origin, are revoked by the coupon
    service when the order is refunded to 0. A reversed reward is not granted
    again for the same referee.
    """
    if order.total != 0:
        return []
    now = now or timezone.now()
    rewards = list(
        ReferralReward.objects.for_org(order.organization_id)
        .filter(order=order, state=ReferralReward.State.GRANTED)
        .select_related("stored_value_entry", "referee")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    for reward in rewards:
        if reward.stored_value_entry is not None:
            stored_value_reward_reverse(
                entry=reward.stored_value_entry,
                reason=f"{reward.stored_value_entry.reason} ({order.number} = 0)",
                by=by,
                now=now,
            )
        reward.state, reward.reversed_at = ReferralReward.State.REVERSED, now
        reward.save(update_fields=["state", "reversed_at"])
    return rewards
