"""The demo's customer lifecycle: sources that convert, follow-ups, stages at plausible times, today's work."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Min
from django.utils import timezone

from huitou.customers.models import Customer, IntentGrade
from huitou.demo.generator import DemoGenerator
from huitou.demo.lifecycle import AFTERCARE_BY
from huitou.demo.services import DEFAULT_CUSTOMERS, demo_build, organization_purge
from huitou.demo.specs import INACTIVE, MEMBERSHIP, PAID, FollowUpSpec, StageEventSpec
from huitou.lifecycle.models import FollowUp, FollowUpTask, StageChange
from huitou.lifecycle.selectors import DUE_OVERDUE, DUE_TODAY, DUE_UPCOMING, tasks_due
from huitou.service.models import OrderState, ServiceOrder
from huitou.tenancy.models import Organization, User

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
BUYER_STAGES = {"customer", "member", "dormant", "lost"}


# --- the story ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs() -> list[Any]:
    return list(DemoGenerator(seed=2026, now=NOW).customers(5_000))


def test_referrals_convert_best_and_flyers_worst(specs: list[Any]) -> None:
    files: Counter[str] = Counter(s.source for s in specs)
    paid: Counter[str] = Counter(s.source for s in specs if s.first_paid_at is not None)
    rates = {source: paid[source] / files[source] for source in files}
    assert max(rates, key=rates.__getitem__) == "referral"
    assert min(rates, key=rates.__getitem__) == "flyer"
    assert rates["referral"] > 0.85 > 0.45 > rates["flyer"]
    assert 0.65 < sum(paid.values()) / len(specs) < 0.85


def test_files_are_created_over_the_last_two_years_with_more_of_them_lately(specs: list[Any]) -> None:
    ages = [(NOW.date() - s.created_at.date()).days for s in specs]
    assert min(ages) >= 1 and max(ages) <= 730
    months = Counter(age // 30 for age in ages)
    assert set(months) >= set(range(24))
    assert months[0] + months[1] > months[21] + months[22]


def test_prospects_have_a_need_and_some_referrals_name_who_referred_them(specs: list[Any]) -> None:
    assert sum(bool(s.need) for s in specs) > 0.85 * len(specs)
    referred = [s for s in specs if s.referrer is not None]
    assert referred and all(s.source == "referral" for s in referred)
    by_index = {s.index: s for s in specs}
    for s in referred:
        assert s.referrer < s.index
        if by_index[s.referrer].household != s.household or s.household is None:
            assert by_index[s.referrer].first_paid_at < s.created_at


def test_each_file_moves_through_the_stages_in_order(specs: list[Any]) -> None:
    for s in specs:
        events = s.lifecycle
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert all(s.created_at <= e.at < NOW for e in events)
        kinds = [e.kind for e in events if isinstance(e, StageEventSpec)]
        paid = s.first_paid_at
        assert (paid is not None) == (s.stage in BUYER_STAGES and "given_up" not in kinds)
        if paid is None:
            assert not any(v.readings for v in s.vehicles)
            continue
        # The first paid visit is the first odometer reading; membership and inactivity come after.
        assert paid == min(r.read_at for v in s.vehicles for r in v.readings)
        assert kinds.index(PAID) == 0
        graded = [e.at for e in events if isinstance(e, FollowUpSpec) and e.grade]
        assert all(at < paid for at in graded)
        last_visit = max(r.read_at for v in s.vehicles for r in v.readings).date()
        for e in events:
            if isinstance(e, StageEventSpec) and e.kind == MEMBERSHIP:
                assert e.at > paid
            if isinstance(e, StageEventSpec) and e.kind == INACTIVE:
                days = (e.at.date() - last_visit).days
                assert days == (181 if e.stage == "dormant" else 366), (s.stage, days)
        if s.stage in ("customer", "member"):
            assert (NOW.date() - last_visit).days <= 180


def test_about_three_follow_ups_a_file_with_grades_channels_and_next_steps(specs: list[Any]) -> None:
    followups = [e for s in specs for e in s.lifecycle if isinstance(e, FollowUpSpec)]
    assert 2.5 < len(followups) / len(specs) < 4
    assert {f.grade for f in followups} == {"", *IntentGrade.values}
    assert {f.channel for f in followups} == {"phone", "wechat", "in_store"}
    assert {f.staff for f in followups} == {"owner", "advisor", "service"}
    assert sum(bool(f.next_due) for f in followups) > 0.2 * len(followups)
    for f in followups:
        assert f.content and (f.next_due is None or f.next_due >= f.at.date())
        assert bool(f.next_step) == bool(f.next_due)
    assert any(f.staff == AFTERCARE_BY and "回访" in f.content for f in followups)


# --- through the services, with the order history --------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One small demo through the services, shared by the read-only tests of this module."""
    with django_db_blocker.unblock():
        result = demo_build(customers=40, seed=5, user_prefix="lc_", org_name="生命周期演示")
        yield result.organization
        organization_purge(organization=result.organization)


def first_paid(organization: Organization) -> dict[int, dt.datetime]:
    return dict(
        ServiceOrder.objects.for_org(organization)
        .filter(state=OrderState.PAID)
        .values("customer_id")
        .annotate(first=Min("paid_at"))
        .values_list("customer_id", "first")
    )


def test_files_convert_at_their_first_paid_orders_payment(demo: Organization, db: Any) -> None:
    paid = first_paid(demo)
    customers = list(Customer.objects.for_org(demo))
    assert 0.5 * len(customers) < len(paid) < len(customers)
    for c in customers:
        assert c.converted_at == paid.get(c.pk), c.name
        assert (c.stage in BUYER_STAGES) or c.converted_at is None
        if c.converted_at is None:
            assert c.stage in ("prospect", "intent", "lost")


def test_intent_is_reached_no_later_than_the_conversion(demo: Organization, db: Any) -> None:
    for c in Customer.objects.for_org(demo):
        if c.converted_at is not None:
            assert c.intent_at is not None and c.intent_at <= c.converted_at
        if c.stage == "intent":
            assert c.intent_at is not None and c.intent_grade
        if c.stage == "prospect":
            assert c.intent_at is None


def test_stage_changes_tell_the_story_at_its_times(demo: Organization, db: Any) -> None:
    changes: dict[int, list[StageChange]] = defaultdict(list)
    for change in StageChange.objects.for_org(demo).order_by("at", "pk"):
        changes[change.customer_id].append(change)
    reasons = Counter(ch.reason for chs in changes.values() for ch in chs)
    assert {"created", "followup_intent", "first_paid_order", "membership", "no_visit"} <= set(reasons)
    assert reasons["imported"] == 0
    for c in Customer.objects.for_org(demo):
        history = changes[c.pk]
        assert history[0].reason == "created" and history[0].at == c.created_at
        assert history[-1].to_stage == c.stage
        for before, after in zip(history, history[1:], strict=False):
            assert before.to_stage == after.from_stage
        for ch in history:
            if ch.reason == "first_paid_order":
                assert ch.at == c.converted_at
            if ch.reason == "followup_intent":
                assert ch.at == c.intent_at
            if ch.reason == "no_visit":
                # The nightly check, the night it found the last visit too long ago.
                assert timezone.localtime(ch.at).time() == dt.time(3, 10)
                days = (timezone.localtime(ch.at).date() - timezone.localtime(c.last_visit_at).date()).days
                assert days == (181 if ch.to_stage == "dormant" else 366)
    assert all(ch.at < timezone.now() for chs in changes.values() for ch in chs)


def test_follow_ups_are_written_in_chinese_by_the_front_desk_at_the_story_times(demo: Organization, db: Any) -> None:
    followups = list(FollowUp.objects.for_org(demo).select_related("staff"))
    assert len(followups) > 40
    assert {f.staff.username for f in followups} <= {"lc_owner", "lc_advisor", "lc_service"}
    assert {f.grade for f in followups} >= {"", "H", "A"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.content) for f in followups)
    assert all(f.at < timezone.now() for f in followups)
    ages = [(timezone.localdate() - timezone.localtime(f.at).date()).days for f in followups]
    assert max(ages) > 365
    # Tasks were created when their follow-up or stage change happened, not when the demo was built.
    assert not FollowUpTask.objects.for_org(demo).filter(created_at__gt=timezone.now() - dt.timedelta(hours=1))


def test_the_advisor_has_follow_ups_due_today_overdue_and_upcoming(demo: Organization, db: Any) -> None:
    advisor = User.objects.get(username="lc_advisor")
    for due in (DUE_TODAY, DUE_OVERDUE, DUE_UPCOMING):
        assert tasks_due(organization=demo, due=due, assignee_id=advisor.pk).exists(), due


def test_most_tasks_of_the_past_are_done_or_cancelled(demo: Organization, db: Any) -> None:
    tasks = FollowUpTask.objects.for_org(demo)
    month_ago = timezone.localdate() - dt.timedelta(days=30)
    old = tasks.filter(due_on__lt=month_ago)
    assert old.filter(closed_at=None).count() < 0.1 * old.count()
    assert {"done", "cancelled"} <= set(old.values_list("closed_as", flat=True))


def test_everyone_at_the_front_desk_has_follow_ups_today_overdue_and_upcoming_in_the_default_demo(db: Any) -> None:
    # What huitou demo and huitou quickstart build: their default size and seed.
    org = demo_build(now=NOW).organization
    assert Customer.objects.for_org(org).count() == DEFAULT_CUSTOMERS
    today = NOW.date()
    for username in ("owner", "advisor", "service"):
        staff = User.objects.get(username=username)
        for due in (DUE_TODAY, DUE_OVERDUE, DUE_UPCOMING):
            assert tasks_due(organization=org, due=due, assignee_id=staff.pk, today=today).exists(), (username, due)
    stages = set(Customer.objects.for_org(org).values_list("stage", flat=True))
    assert stages == {"prospect", "intent", "customer", "member", "dormant", "lost"}
    orders = ServiceOrder.objects.for_org(org)
    assert orders.filter(opened_at__date=today).exists() and orders.filter(state=OrderState.PAID).count() > 100
