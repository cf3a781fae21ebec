"""The grading page, the grade on the customer file and list, and the API: they agree for every write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huitou.analytics.grades import grade_override_set
from huitou.analytics.models import CustomerScore
from huitou.analytics.rfm import rfm_summary, scores_refresh
from huitou.analytics.tests.rfm_dataset import TODAY, RfmWorld, noon
from huitou.api.services import token_create
from huitou.api.tests.conftest import ApiClient
from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer
from huitou.loyalty.services.tiers import tier_save
from huitou.service.models import ServiceOrder
from huitou.service.tests.support import paid
from huitou.tenancy.models import Organization, User


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _, raw = token_create(user=user, name="tests")
        return ApiClient(raw)

    return make


@pytest.fixture
def small(
    org: Organization,
    advisor: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Any],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., Any],
) -> dict[str, Customer]:
    """Three customers: 张伟 (two visits, 30 and 10 days ago), 李娜 (one, 40 days ago), 王芳 (none)."""
    item = make_service_item()
    today = timezone.localdate()
    files = {}
    for name, visits in (("张伟", [(30, "800.00"), (10, "1200.00")]), ("李娜", [(40, "300.00")]), ("王芳", [])):
        customer = make_customer(name=name)
        car = make_vehicle(customer)
        for days_ago, price in visits:
            order = paid(make_order(car), item, advisor, price)
            ServiceOrder.objects.for_org(org).filter(pk=order.pk).update(
                paid_at=noon(today - dt.timedelta(days=days_ago))
            )
        files[name] = customer
    scores_refresh(organization=org)
    return files


def test_the_grading_page_is_the_store_managers(client_for: Callable[[User], Client], advisor: User) -> None:
    assert client_for(advisor).get(reverse("analytics:rfm")).status_code == 403
    assert client_for(advisor).post(reverse("analytics:rfm_recompute")).status_code == 403


def test_the_grading_page_shows_counts_cut_points_and_links(
    client_for: Callable[[User], Client], owner: User, small: dict[str, Customer], django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    # session, user (+organization), the grade rules (+ tiers), segment counts, the three
    # score bands (R, F, M), the grade counts, the menu's shops, the tiers of the rules form's two selects.
    with django_assert_num_queries(11):
        response = client.get(reverse("analytics:rfm"))
    html = response.content.decode()
    assert response.status_code == 200
    # Two scored: 张伟 (R 10 days, F 2, M 2000) beats 李娜 (40 days, 1, 300) on each: scores 3 and 1.
    # 张伟: R3 F3 M3, all "low" (not above 3): 一般挽留, as is 李娜 (R1 F1 M1).
    assert f'{reverse("customers:list")}?segment=win_back">2</a>' in html
    assert f'{reverse("customers:list")}?customer_grade=C">2</a>' in html
    assert "10" in html and "40" in html


def test_recompute_works_the_scores_out_now(
    client_for: Callable[[User], Client], owner: User, small: dict[str, Customer], org: Organization
) -> None:
    CustomerScore.objects.for_org(org).delete()
    response = client_for(owner).post(reverse("analytics:rfm_recompute"))
    assert response.status_code == 302
    assert CustomerScore.objects.for_org(org).count() == 2


def test_the_grade_rules_saved_on_the_page_are_what_the_api_reads(
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
    owner: User,
    org: Organization,
    small: dict[str, Customer],
) -> None:
    gold = tier_save(
        organization=org, data={"code": "gold", "name": "金卡", "entry_rule": "spend", "entry_threshold": "8000"}
    )
    response = client_for(owner).post(
        reverse("analytics:grade_rules"),
        {"a_segments": ["win_back"], "a_min_tier": gold.pk, "b_min_referrals": "2", "window_months": "6"},
    )
    assert response.status_code == 302
    api = api_for(owner)
    assert api.get("/api/v1/analytics/grade-rules").json() == {
        "a_segments": ["win_back"],
        "a_min_referrals": None,
        "a_min_tier_id": gold.pk,
        "b_segments": [],
        "b_min_referrals": 2,
        "b_min_tier_id": None,
        "window_months": 6,
    }
    rfm = api.get("/api/v1/analytics/rfm").json()
    assert rfm["window_months"] == 6
    assert rfm["grades"] == [
        {"grade": "A", "customers": 2},
        {"grade": "B", "customers": 0},
        {"grade": "C", "customers": 0},
    ]
    # And the other way: rules put through the API show on the page.
    put = api.generic(
        "PUT",
        "/api/v1/analytics/grade-rules",
        '{"b_segments": ["win_back"], "window_months": 6}',
        content_type="application/json",
    )
    assert put.status_code == 200
    html = client_for(owner).get(reverse("analytics:rfm")).content.decode()
    assert f'{reverse("customers:list")}?customer_grade=B">2</a>' in html
    refused = client_for(owner).post(reverse("analytics:grade_rules"), {"window_months": "0"})
    assert refused.status_code == 400


def test_a_grade_set_on_the_file_is_what_the_api_shows_and_the_other_way(
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
    owner: User,
    org: Organization,
    small: dict[str, Customer],
) -> None:
    zhang = small["张伟"]
    client, api = client_for(owner), api_for(owner)
    response = client.post(reverse("analytics:grade_override", args=[zhang.pk]), {"grade": "A", "reason": "车队负责人"})
    assert response.status_code == 302
    body = api.get(f"/api/v1/customers/{zhang.pk}").json()
    assert body["grade"] == "A"
    assert body["rfm"] == {"r": 3, "f": 3, "m": 3, "segment": "win_back"}
    assert body["churn_risk"]["level"] == "low"  # every 20 days, seen 10 days ago
    assert body["churn_risk"]["interval_days"] == 20 and body["churn_risk"]["gap_days"] == 10
    history = api.get(f"/api/v1/customers/{zhang.pk}/history").json()
    assert history[0]["changes"] == {"grade": ["C", "A"]} and history[0]["note"] == "车队负责人"

    wang = small["王芳"]  # never scored: no rfm, no grade, no churn risk
    assert {k: api.get(f"/api/v1/customers/{wang.pk}").json()[k] for k in ("rfm", "grade", "churn_risk")} == {
        "rfm": None,
        "grade": None,
        "churn_risk": None,
    }
    posted = api.post_json(f"/api/v1/customers/{wang.pk}/grade", {"grade": "B", "reason": "朋友介绍的车队"})
    assert posted.status_code == 200 and posted.json()["grade"] == "B"
    html = client.get(reverse("customers:detail", args=[wang.pk])).content.decode()
    assert 'data-grade="B"' in html and "朋友介绍的车队" in html
    missing = api.post_json(f"/api/v1/customers/{wang.pk}/grade", {"grade": "A", "reason": ""})
    assert missing.status_code == 422
    # Without a reason the page says why and changes nothing.
    client.post(reverse("analytics:grade_override", args=[zhang.pk]), {"grade": "C", "reason": ""})
    assert api.get(f"/api/v1/customers/{zhang.pk}").json()["grade"] == "A"
    assert ChangeEntry.objects.for_org(org).filter(customer_id=zhang.pk, changes__has_key="grade").count() == 1


def test_only_the_store_manager_sets_grades(
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
    advisor: User,
    small: dict[str, Customer],
) -> None:
    zhang = small["张伟"]
    assert (
        client_for(advisor)
        .post(reverse("analytics:grade_override", args=[zhang.pk]), {"grade": "A", "reason": "x"})
        .status_code
        == 403
    )
    api = api_for(advisor)
    assert api.post_json(f"/api/v1/customers/{zhang.pk}/grade", {"grade": "A", "reason": "x"}).status_code == 403
    assert api.get("/api/v1/analytics/rfm").status_code == 403
    # Everyone who sees the file sees the grade.
    assert api.get(f"/api/v1/customers/{zhang.pk}").json()["grade"] == "C"


def test_the_file_and_the_list_show_grade_segment_and_churn_risk(
    client_for: Callable[[User], Client], owner: User, small: dict[str, Customer]
) -> None:
    client = client_for(owner)
    grade_override_set(customer=small["李娜"], grade="B", reason="老客户的女儿", by=owner)
    html = client.get(reverse("customers:detail", args=[small["张伟"].pk])).content.decode()
    assert 'data-grade="C"' in html and 'data-segment="win_back"' in html and 'data-churn="low"' in html
    listing = client.get(reverse("customers:list")).content.decode()
    assert listing.count('class="badge value-') == 2  # 王芳 has none
    only_b = client.get(reverse("customers:list"), {"customer_grade": "B"}).content.decode()
    assert "李娜" in only_b and "张伟" not in only_b and "王芳" not in only_b
    only_c = client.get(reverse("customers:list"), {"customer_grade": "C"}).content.decode()
    assert "张伟" in only_c and "李娜" not in only_c
    by_segment = client.get(reverse("customers:list"), {"segment": "win_back"}).content.decode()
    assert "张伟" in by_segment and "李娜" in by_segment and "王芳" not in by_segment


def test_the_api_rfm_agrees_with_the_page_and_runs_a_fixed_number_of_queries(
    rfm_world: RfmWorld, owner: User, api_for: Callable[[User], ApiClient], django_assert_num_queries: Any
) -> None:
    scores_refresh(organization=rfm_world.org, today=TODAY)
    api = api_for(owner)
    # token (+ user, organization), the token's last use, the grade rules, segment counts,
    # the three bands, the grade counts.
    with django_assert_num_queries(8):
        body = api.get("/api/v1/analytics/rfm").json()
    summary = rfm_summary(organization=rfm_world.org)
    assert body["scored"] == 6
    assert [(s["code"], s["customers"]) for s in body["segments"]] == [(c, n) for c, _, n in summary.segments]
    assert body["cut_points"]["r"] == [
        {"score": 5, "customers": 1, "low": 2, "high": 2},
        {"score": 4, "customers": 1, "low": 5, "high": 5},
        {"score": 2, "customers": 2, "low": 10, "high": 10},
        {"score": 1, "customers": 2, "low": 171, "high": 302},
    ]
    assert body["cut_points"]["m"][-1] == {"score": 1, "customers": 2, "low": "200.00", "high": "350.00"}
    assert body["grades"] == [
        {"grade": "A", "customers": 1},
        {"grade": "B", "customers": 1},
        {"grade": "C", "customers": 5},
    ]
