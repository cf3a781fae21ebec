"""A/B/C grades: the store manager's rules and the manual override with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.models import CustomerScore, Grade, GradeRules, RfmSegment
from huitou.analytics.rfm import grade_rules, grades_apply, scores_refresh
from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record
from huitou.customers.models import Customer
from huitou.loyalty.models import Tier
from huitou.tenancy.models import Organization, User

GRADE_RULE_FIELDS = (
    "a_segments",
    "a_min_referrals",
    "a_min_tier",
    "b_segments",
    "b_min_referrals",
    "b_min_tier",
    "window_months",
)


def customer_grade(customer: Customer) -> str | None:
    """The grade shown for a customer (override first), None when never scored. Reads ``customer.score``."""
    score = score_of(customer)
    return score.effective_grade if score is not None else None


def score_of(customer: Customer) -> CustomerScore | None:
    """The customer's score row, loaded with the customer (``select_related("score")``) or fetched."""
    try:
        return customer.score
    except CustomerScore.DoesNotExist:
        return None


def grade_override_set(*, customer: Customer, grade: str, reason: str, by: User) -> CustomerScore:
    """Set (``grade`` A/B/C) or clear (``grade`` empty) the manual grade; a reason is required either way.

    Recorded in the file's history (field ``grade``, the reason as the note).
    """
    reason = (reason or "").strip()
    problems: dict[str, list[Any]] = {}
    if grade and grade not in Grade.values:
        problems["grade"] = [errors.GRADE_INVALID]
    if not reason:
        problems["reason"] = [errors.GRADE_REASON_REQUIRED]
    if problems:
        raise ValidationError(problems)
    org_id = customer.organization_id
    now = timezone.now()
    with transaction.atomic():
        score, created = (
            CustomerScore.objects.for_org(org_id)
            .select_for_update()
            .get_or_create(
                organization_id=org_id,
                customer=customer,
                defaults={"computed_at": now, "grade": Grade.C},
            )
        )
        before = "" if created and not score.grade_override else score.effective_grade
        score.grade_override = grade
        score.grade_reason = reason[:200] if grade else ""
        score.grade_override_by = by if grade else None
        score.grade_override_at = now if grade else None
        score.save()
        change_record(
            organization_id=org_id,
            subject=customer,
            action=ChangeEntry.Action.UPDATED,
            actor=by,
            changes={"grade": [before or None, score.effective_grade]},
            customer_id=customer.pk,
            note=reason[:200],
            at=now,
        )
    return score


def grade_rules_save(*, organization: Organization | int, data: dict[str, Any], by: User) -> GradeRules:
    """Save the grade rules (keys of ``GRADE_RULE_FIELDS``; tiers by id or object) and regrade everyone at once.

    A new RFM window works the scores out again; otherwise only the grades change.
    """
    org_id = organization.pk if isinstance(organization, Organization) else int(organization)
    problems: dict[str, list[Any]] = {}
    clean: dict[str, Any] = {}
    for letter in ("a", "b"):
        segments = list(data.get(f"{letter}_segments") or [])
        if any(s not in RfmSegment.values for s in segments):
            problems[f"{letter}_segments"] = [errors.SEGMENT_INVALID]
        clean[f"{letter}_segments"] = [s for s in RfmSegment.values if s in segments]
        referrals = data.get(f"{letter}_min_referrals")
        if referrals is not None and (not isinstance(referrals, int) or referrals < 1 or referrals > 1000):
            problems[f"{letter}_min_referrals"] = [errors.REFERRALS_INVALID]
        clean[f"{letter}_min_referrals"] = referrals
        tier = data.get(f"{letter}_min_tier")
        tier_id = tier.pk if isinstance(tier, Tier) else tier
        if tier_id is not None and not Tier.objects.for_org(org_id).filter(pk=tier_id).exists():
            problems[f"{letter}_min_tier"] = [errors.TIER_UNKNOWN]
        clean[f"{letter}_min_tier_id"] = tier_id
    window = data.get("window_months")
    if window is None:
        window = grade_rules(organization=org_id).window_months
    if not isinstance(window, int) or not 1 <= window <= 60:
        problems["window_months"] = [errors.WINDOW_INVALID]
    clean["window_months"] = window
    if problems:
        raise ValidationError(problems)
    window_before = grade_rules(organization=org_id).window_months
    with transaction.atomic():
        rules, _ = GradeRules.objects.for_org(org_id).update_or_create(
            organization_id=org_id, defaults={**clean, "updated_by": by}
        )
        if window != window_before:
            scores_refresh(organization=org_id)  # new RFM figures, then the grades
        else:
            grades_apply(organization=org_id)
    return rules


def customers_with_grade(*, organization: Organization | int, grades: Iterable[str]) -> QuerySet[CustomerScore, Any]:
    """Ids of the customers whose grade (a manual one first) is one of ``grades``, as a subquery.

    For choosing customers by grade where care rules, bulk messages or
    lists do: ``.filter(customer_id__in=customers_with_grade(...))``.
    """
    wanted = [g for g in grades if g in Grade.values]
    return (
        CustomerScore.objects.for_org(organization)
        .filter(Q(grade_override__in=wanted) | Q(grade_override="", grade__in=wanted))
        .values("customer_id")
    )
