"""A hand-built organization for saved segments: three customers whose membership of each
condition is worked out by hand, a deleted file and another organization's look-alike.

=========  ========  =====  ===============  ========  =====  ==========  ======  =======================
customer   stage     grade  RFM segment      tags      tier   last visit  spend   cars (brand, age)
=========  ========  =====  ===============  ========  =====  ==========  ======  =======================
张一        customer  A      important_value  VIP       金卡    10 days     5000    Volkswagen 8 (model year)
李二        member    A*     develop          传播型     —      200 days    800     丰田 2
王三        prospect  —      —                —         —      never       0       volkswagen 3 (bought),
                                                                                  丰田 10 (model year)
=========  ========  =====  ===============  ========  =====  ==========  ======  =======================

A*: grade C by the rules, A set by hand. 张一 and 王三 are owned by 李顾问 (both shops), 李二 by
小西 (城西店 only). 赵四 (deleted) and 隔壁客户 (another organization) meet nearly every condition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from huitou.analytics.models import CustomerScore
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import customer_delete
from huitou.loyalty.models import Tier
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import staff_create

THIS_YEAR = timezone.localdate().year


@dataclass
class SegmentWorld:
    org: Organization
    other_org: Organization
    people: dict[str, Customer]
    gold: Tier
    west: Shop
    main: Shop
    westie: User

    def names(self, customers: Any) -> set[str]:
        return {c.name for c in customers}


def _facts(customer: Customer, *, stage: str, days_ago: int | None, spend: str) -> None:
    last = timezone.now() - dt.timedelta(days=days_ago) if days_ago is not None else None
    Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(
        stage=stage, last_visit_at=last, lifetime_spend=Decimal(spend)
    )


# Scores that give each segment (R, F, M high when above 3).
RFM_OF = {"important_value": (5, 5, 5), "develop": (4, 1, 1)}


def _score(customer: Customer, *, segment: str, grade: str, override: str = "") -> None:
    r, f, m = RFM_OF[segment]
    CustomerScore.objects.create(
        r=r,
        f=f,
        m=m,
        organization_id=customer.organization_id,
        customer=customer,
        computed_at=timezone.now(),
        segment=segment,
        grade=grade,
        grade_override=override,
        grade_reason="介绍了三位朋友" if override else "",
    )


@pytest.fixture
def segment_world(
    org: Organization,
    other_org: Organization,
    owner: User,
    advisor: User,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> SegmentWorld:
    main, west = Shop.objects.for_org(org).order_by("pk")
    westie = staff_create(
        organization=org,
        username="westie",
        password="correct-horse-battery-42",  # noqa: S106
        role=Role.ADVISOR,
        display_name="小西",
        shops=[west],
        validate=False,
    )
    gold = tier_save(
        organization=org, data={"code": "gold", "name": "金卡", "entry_rule": "spend", "entry_threshold": "8000"}
    )
    zhang = make_customer(name="张一", phone="13800000001", tags=["VIP"])
    li = make_customer(name="李二", phone="13800000002", tags=["传播型"], owner=westie.pk)
    wang = make_customer(name="王三", phone="13800000003")
    zhao = make_customer(name="赵四", phone="13800000004", tags=["VIP", "传播型"])
    make_vehicle(zhang, brand="Volkswagen", year=THIS_YEAR - 8)
    make_vehicle(li, brand="丰田", year=THIS_YEAR - 2)
    make_vehicle(wang, brand="volkswagen", purchase_date=dt.date(THIS_YEAR - 3, 1, 15))
    make_vehicle(wang, brand="丰田", year=THIS_YEAR - 10)
    make_vehicle(zhao, brand="Volkswagen", year=THIS_YEAR - 8)
    membership_set_tier(customer=zhang, tier=gold, by=owner)
    membership_set_tier(customer=zhao, tier=gold, by=owner)
    _facts(zhang, stage="customer", days_ago=10, spend="5000.00")
    _facts(li, stage="member", days_ago=200, spend="800.00")
    _facts(wang, stage="prospect", days_ago=None, spend="0.00")
    _facts(zhao, stage="customer", days_ago=10, spend="5000.00")
    _score(zhang, segment="important_value", grade="A")
    _score(li, segment="develop", grade="C", override="A")
    _score(zhao, segment="important_value", grade="A")
    customer_delete(customer=zhao, by=owner)
    # Another organization's customer meeting every condition 张一 meets.
    gebi = make_customer(organization=other_org, by=outsider, name="隔壁客户", phone="13800000009", tags=["VIP"])
    make_vehicle(gebi, by=outsider, brand="Volkswagen", year=THIS_YEAR - 8)
    _facts(gebi, stage="customer", days_ago=10, spend="5000.00")
    _score(gebi, segment="important_value", grade="A")
    people = {c.name: Customer.objects.for_org(org).get(pk=c.pk) for c in (zhang, li, wang)}
    return SegmentWorld(org, other_org, people, gold, west, main, westie)
