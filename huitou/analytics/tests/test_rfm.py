"""RFM scores, segments, grades and churn risk on hand-built data (see ``rfm_dataset`` for the worked answer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from huitou.analytics import errors
from huitou.analytics.churn import churn_reason
from huitou.analytics.grades import customers_with_grade, grade_override_set, grade_rules_save
from huitou.analytics.models import CustomerScore, RfmSegment
from huitou.analytics.rfm import months_before, rfm_summary, scores_refresh, typical_interval, window_start
from huitou.analytics.tasks import scores_refresh_daily
from huitou.analytics.tests.rfm_dataset import TODAY, RfmWorld, noon
from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer
from huitou.loyalty.services.tiers import membership_set_tier, tier_save
from huitou.service.models import ServiceOrder
from huitou.service.tests.support import paid
from huitou.tenancy.models import Organization, User

EXPECTED = {
    # name: (recency days, frequency, monetary, r, f, m, segment)
    "C9": (2, 3, "2000.00", 5, 4, 4, RfmSegment.IMPORTANT_VALUE),
    "C8": (5, 2, "200.00", 4, 1, 1, RfmSegment.DEVELOP),
    "C1": (10, 3, "1000.00", 2, 4, 3, RfmSegment.KEEP),
    "C2": (10, 2, "350.00", 2, 1, 1, RfmSegment.WIN_BACK),
    "C3": (171, 2, "3000.00", 1, 1, 5, RfmSegment.IMPORTANT_WIN_BACK),
    "C4": (302, 2, "500.00", 1, 1, 2, RfmSegment.WIN_BACK),
}
CHURN = {
    # name: (visit days, rhythm, gap, level)
    "C9": (3, 20, 2, "low"),
    "C8": (2, 24, 5, "low"),
    "C1": (3, 56, 10, "low"),
    "C2": (2, 80, 10, "low"),
    "C3": (2, 31, 171, "high"),
    "C4": (2, 31, 302, "high"),
    "C5": (1, 31, 759, "high"),
}


def _scores(org: Organization) -> dict[str, CustomerScore]:
    return {s.customer.name: s for s in CustomerScore.objects.for_org(org).select_related("customer")}


def _row(score: CustomerScore) -> tuple[Any, ...]:
    return (
        score.recency_days,
        score.frequency,
        str(Decimal(score.monetary).quantize(Decimal("0.01"))),
        score.r,
        score.f,
        score.m,
        score.segment,
    )


def test_window_start_is_the_day_after_the_same_day_months_ago() -> None:
    assert window_start(TODAY, 12) == dt.date(2025, 7, 1)
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)


def test_scores_segments_and_cut_points_with_ties(rfm_world: RfmWorld) -> None:
    org = rfm_world.org
    assert scores_refresh(organization=org, today=TODAY) == 7  # six scored and C5 (churn only)
    scores = _scores(org)
    assert set(scores) == {"C9", "C8", "C1", "C2", "C3", "C4", "C5"}  # not C6 (voided), D1 (deleted), M7 (merged)
    assert {name: _row(scores[name]) for name in EXPECTED} == EXPECTED
    c5 = scores["C5"]
    assert (c5.r, c5.f, c5.m, c5.segment, c5.frequency) == (None, None, None, "", 0)

    summary = rfm_summary(organization=org)
    counts = {code: n for code, _, n in summary.segments}
    assert counts == {
        "important_value": 1,
        "important_develop": 0,
        "important_keep": 0,
        "important_win_back": 1,
        "value": 0,
        "develop": 1,
        "keep": 1,
        "win_back": 2,
    }
    assert summary.scored == 6
    bands = {letter: [(b.score, b.customers, b.low, b.high) for b in rows] for letter, rows in summary.bands.items()}
    assert bands["r"] == [(5, 1, 2, 2), (4, 1, 5, 5), (2, 2, 10, 10), (1, 2, 171, 302)]
    assert bands["f"] == [(4, 2, 3, 3), (1, 4, 2, 2)]
    assert bands["m"] == [
        (5, 1, Decimal("3000.00"), Decimal("3000.00")),
        (4, 1, Decimal("2000.00"), Decimal("2000.00")),
        (3, 1, Decimal("1000.00"), Decimal("1000.00")),
        (2, 1, Decimal("500.00"), Decimal("500.00")),
        (1, 2, Decimal("200.00"), Decimal("350.00")),
    ]


def test_churn_risk_from_each_customers_own_rhythm(rfm_world: RfmWorld) -> None:
    org = rfm_world.org
    scores_refresh(organization=org, today=TODAY)
    assert typical_interval(organization=org) == 31
    scores = _scores(org)
    assert {name: (s.visit_days, s.interval_days, s.gap_days, s.churn_risk) for name, s in scores.items()} == CHURN
    with translation.override("zh-hans"):
        assert churn_reason(scores["C3"]) == "平均 31 天来一次，已 171 天未到店"
        assert "759" in churn_reason(scores["C5"])
    assert churn_reason(None) == ""


def _visits_on(
    make_customer: Any, make_vehicle: Any, make_order: Any, item: Any, by: User, days: list[str]
) -> Customer:
    customer = make_customer()
    car = make_vehicle(customer)
    for day in days:
        order = paid(make_order(car), item, by, "100.00")
        ServiceOrder.objects.for_org(customer.organization_id).filter(pk=order.pk).update(
            paid_at=noon(dt.date.fromisoformat(day))
        )
    return customer


def test_a_regular_customer_is_at_risk_sooner_than_an_irregular_one(
    org: Organization,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., Any],
    make_service_item: Callable[..., Any],
) -> None:
    item = make_service_item()
    # Every 30 days (90 days over 4 visits), last seen 50 days ago: 50 ≥ 1.5 × 30 → medium, < 2 × 30.
    regular = _visits_on(
        make_customer, make_vehicle, make_order, item, advisor, ["2026-02-10", "2026-03-12", "2026-04-11", "2026-05-11"]
    )
    # 10 days then 200 days apart (rhythm 210 / 2 = 105), last seen 150 days ago: 150 < 1.5 × 105 → low.
    irregular = _visits_on(
        make_customer, make_vehicle, make_order, item, advisor, ["2025-07-05", "2025-07-15", "2026-01-31"]
    )
    # The same gap against a rhythm of 62 (two orders on 2025-11-30 are one visit): 150 ≥ 2 × 62 → high.
    steady = _visits_on(
        make_customer, make_vehicle, make_order, item, advisor, ["2025-11-30", "2025-11-30", "2026-01-31"]
    )
    scores_refresh(organization=org, today=TODAY)
    got = {s.customer_id: s for s in CustomerScore.objects.for_org(org)}

    def churn(c: Customer) -> tuple[Any, ...]:
        s = got[c.pk]
        return (s.visit_days, s.interval_days, s.gap_days, s.churn_risk)

    assert churn(regular) == (4, 30, 50, "medium")
    assert churn(irregular) == (3, 105, 150, "low")
    assert churn(steady) == (2, 62, 150, "high")
    with translation.override("zh-hans"):
        assert churn_reason(got[steady.pk]) == "平均 62 天来一次，已 150 天未到店"


def _grades(org: Organization) -> dict[str, str]:
    return {name: s.effective_grade for name, s in _scores(org).items()}


def test_grades_by_the_default_rules_overrides_and_new_rules(rfm_world: RfmWorld, owner: User) -> None:
    org, files = rfm_world.org, rfm_world.files
    scores_refresh(organization=org, today=TODAY)
    # Default rules: A = 重要价值 or 3 referrals; B = 重要发展/重要保持/重要挽留/一般价值; else C.
    assert _grades(org) == {"C9": "A", "C3": "B", "C8": "C", "C1": "C", "C2": "C", "C4": "C", "C5": "C"}

    with pytest.raises(ValidationError) as refused:
        grade_override_set(customer=files["C4"], grade="A", reason="  ", by=owner)
    assert refused.value.message_dict == {"reason": [errors.GRADE_REASON_REQUIRED]}
    with pytest.raises(ValidationError) as refused:
        grade_override_set(customer=files["C4"], grade="S", reason="x", by=owner)
    assert refused.value.message_dict == {"grade": [errors.GRADE_INVALID]}

    grade_override_set(customer=files["C4"], grade="A", reason="车队老板，常介绍朋友", by=owner)
    # A manual grade on a file that was never scored (C6: only a voided order) makes its row.
    grade_override_set(customer=files["C6"], grade="B", reason="新车队客户", by=owner)
    scores_refresh(organization=org, today=TODAY)  # the nightly job keeps both
    grades = _grades(org)
    assert (grades["C4"], grades["C6"]) == ("A", "B")
    c4 = CustomerScore.objects.for_org(org).get(customer=files["C4"])
    assert (c4.grade, c4.grade_override, c4.grade_reason, c4.grade_override_by) == (
        "C",
        "A",
        "车队老板，常介绍朋友",
        owner,
    )
    entry = ChangeEntry.objects.for_org(org).filter(customer_id=files["C4"].pk).order_by("-pk").first()
    assert entry is not None
    assert (entry.changes, entry.note, entry.actor) == ({"grade": ["C", "A"]}, "车队老板，常介绍朋友", owner)

    grade_override_set(customer=files["C4"], grade="", reason="不再是车队客户", by=owner)
    assert _grades(org)["C4"] == "C"

    # New rules: A also for tier 金卡 or better; B also 一般保持 and 2 referrals.
    gold = tier_save(
        organization=org, data={"code": "gold", "name": "金卡", "entry_rule": "spend", "entry_threshold": "8000"}
    )
    membership_set_tier(customer=files["C2"], tier=gold, by=owner)
    for name in ("R1", "R2"):
        referee = Customer.objects.for_org(org).get(pk=files["C8"].pk)
        Customer.objects.for_org(org).create(
            name=name, referrer=referee, converted_at=noon(TODAY), owner=owner, organization=org
        )
    scores_refresh(organization=org, today=TODAY)  # the referrals are counted by the refresh
    grade_rules_save(
        organization=org,
        data={
            "a_segments": ["important_value"],
            "a_min_tier": gold.pk,
            "b_segments": ["important_win_back", "keep"],
            "b_min_referrals": 2,
        },
        by=owner,
    )
    assert _grades(org) == {"C9": "A", "C3": "B", "C8": "B", "C1": "B", "C2": "A", "C4": "C", "C5": "C", "C6": "B"}
    # What care rules and lists choose customers by:
    chosen = Customer.objects.for_org(org).filter(pk__in=customers_with_grade(organization=org, grades=["A"]))
    assert sorted(c.name for c in chosen) == ["C2", "C9"]
    with pytest.raises(ValidationError) as refused:
        grade_rules_save(organization=org, data={"a_segments": ["gold"], "b_min_referrals": 0}, by=owner)
    assert refused.value.message_dict == {
        "a_segments": [errors.SEGMENT_INVALID],
        "b_min_referrals": [errors.REFERRALS_INVALID],
    }


def _rows(org: Organization) -> list[dict[str, Any]]:
    return list(CustomerScore.objects.for_org(org).order_by("customer_id").values().iterator())


def test_the_nightly_refresh_is_idempotent_and_leaves_other_organizations_alone(rfm_world: RfmWorld) -> None:
    org = rfm_world.org
    stranger = rfm_world.files["X1"]
    scores_refresh(organization=org, today=TODAY)
    first = _rows(org)
    scores_refresh(organization=org, today=TODAY)
    again = _rows(org)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]  # noqa: E731
    assert strip(again) == strip(first)
    assert not CustomerScore.objects.for_org(stranger.organization_id).exists()
    scores_refresh(organization=stranger.organization_id, today=TODAY)
    theirs = CustomerScore.objects.for_org(stranger.organization_id).get()
    assert (theirs.customer_id, theirs.frequency, theirs.r, theirs.f, theirs.m) == (stranger.pk, 1, 1, 1, 1)
    assert strip(_rows(org)) == strip(first)  # B's refresh changes nothing of A's


def test_the_nightly_task_and_the_command_refresh_every_organization(rfm_world: RfmWorld) -> None:
    scores_refresh_daily()  # huey runs it at once in the tests
    assert CustomerScore.objects.for_org(rfm_world.org).count() == 7
    assert CustomerScore.objects.for_org(rfm_world.files["X1"].organization_id).count() == 1
    CustomerScore.objects.for_org(rfm_world.org).delete()
    out = StringIO()
    call_command("analytics", "rfm", "--org", rfm_world.org.name, stdout=out)
    assert out.getvalue() == f"{rfm_world.org.name}: 7 customers scored\n"


def test_an_organization_without_paid_orders_has_no_scores(org: Organization, make_customer: Any) -> None:
    make_customer(name="只是来问问")
    assert scores_refresh(organization=org, today=TODAY) == 0
    summary = rfm_summary(organization=org)
    assert summary.scored == 0
    assert all(n == 0 for _, _, n in summary.segments)
    assert summary.bands == {"r": [], "f": [], "m": []}
    assert summary.computed_at is None
    assert typical_interval(organization=org) == 180


def test_merging_keeps_one_score_and_the_kept_files_manual_grade(rfm_world: RfmWorld, owner: User) -> None:
    org, files = rfm_world.org, rfm_world.files
    scores_refresh(organization=org, today=TODAY)
    grade_override_set(customer=files["C1"], grade="A", reason="老客户", by=owner)
    from huitou.lifecycle.services.merge import customer_merge

    customer_merge(keep=files["C8"], other=files["C1"], by=owner)
    # The kept file had its own row: the other's goes. C8 now has C1's orders too.
    assert not CustomerScore.objects.for_org(org).filter(customer=files["C1"]).exists()
    scores_refresh(organization=org, today=TODAY)
    c8 = CustomerScore.objects.for_org(org).get(customer=files["C8"])
    assert (c8.frequency, c8.recency_days, c8.visit_days, c8.grade_override) == (5, 5, 5, "")
    assert str(Decimal(c8.monetary).quantize(Decimal("0.01"))) == "1200.00"
    # A manual grade of a file without a row of its own moves to it.
    grade_override_set(customer=files["C5"], grade="B", reason="常客", by=owner)
    newcomer = Customer.objects.for_org(org).create(name="新档案", owner=owner, organization=org)
    customer_merge(keep=newcomer, other=files["C5"], by=owner)
    moved = CustomerScore.objects.for_org(org).get(customer=newcomer)
    assert (moved.grade_override, moved.grade_reason) == ("B", "常客")
