"""/api/v1/analytics/rfm and the grades (``analytics.grades``: the store manager).

The same numbers as the page ``/analytics/grades/`` (``huitou.analytics.rfm``):
segment counts and each score's cut points as of the last refresh (nightly,
or ``POST /analytics/rfm/recompute``), the A/B/C grade rules, and a grade
set by hand on a customer (``POST /customers/{id}/grade``, with a reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Router
from pydantic import Field

from huitou.analytics.grades import grade_override_set, grade_rules_save
from huitou.analytics.models import RfmSegment
from huitou.analytics.rfm import grade_rules, rfm_summary, scores_refresh
from huitou.analytics.views_rfm import grade_counts
from huitou.api.base import Schema
from huitou.api.permissions import require
from huitou.api.routers.customers import _get_customer, customer_out
from huitou.api.schemas import CustomerOut
from huitou.api.service_schemas import IdIn, Money, money
from huitou.customers.models import Customer
from huitou.tenancy.http import ApiRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404

router = Router(tags=["analytics"])

SegmentCode = Literal[
    "important_value",
    "important_develop",
    "important_keep",
    "important_win_back",
    "value",
    "develop",
    "keep",
    "win_back",
]
assert set(SegmentCode.__args__) == set(RfmSegment.values)  # type: ignore[attr-defined]


class SegmentCountOut(Schema):
    code: str = Field(description="e.g. important_value")
    label: str = Field(description="In the reader's language, e.g. 重要价值客户")
    customers: int


class GradeCountOut(Schema):
    grade: Literal["A", "B", "C"]
    customers: int = Field(description="A grade set by hand counts as given")


class CountBandOut(Schema):
    score: int = Field(ge=1, le=5)
    customers: int
    low: int = Field(description="The smallest value with this score")
    high: int = Field(description="The largest value with this score")


class MoneyBandOut(Schema):
    score: int = Field(ge=1, le=5)
    customers: int
    low: Money
    high: Money


class CutPointsOut(Schema):
    r: list[CountBandOut] = Field(description="Days since the last paid order, score 5 (most recent) first")
    f: list[CountBandOut] = Field(description="Paid orders in the window, score 5 first")
    m: list[MoneyBandOut] = Field(description="Money received in the window net of refunds, score 5 first")


class RfmSummaryOut(Schema):
    window_months: int
    computed_at: dt.datetime | None = Field(description="When the scores were last worked out")
    scored: int = Field(description="Customers with a paid order in the window")
    segments: list[SegmentCountOut]
    grades: list[GradeCountOut]
    cut_points: CutPointsOut


@router.get("/analytics/rfm", response=RfmSummaryOut, summary="RFM segment counts, score cut points and grade counts")
def get_rfm(request: ApiRequest) -> dict[str, Any]:
    """As of the last refresh. A score is 1 + ⌊5 × w / n⌋ with n customers scored and w of them strictly worse.

    Queries: the rules (+ tiers), segment counts, the three score bands, the grade counts.
    """
    organization = require(request, Perm.MANAGE_GRADES)
    rules = grade_rules(organization=organization)
    summary = rfm_summary(organization=organization)

    def bands(letter: str, as_money: bool = False) -> list[dict[str, Any]]:
        return [
            {
                "score": b.score,
                "customers": b.customers,
                "low": money(b.low) if as_money else b.low,
                "high": money(b.high) if as_money else b.high,
            }
            for b in summary.bands[letter]
        ]

    return {
        "window_months": rules.window_months,
        "computed_at": summary.computed_at,
        "scored": summary.scored,
        "segments": [{"code": c, "label": label, "customers": n} for c, label, n in summary.segments],
        "grades": [{"grade": g, "customers": n} for g, _, n in grade_counts(organization_id=organization.pk)],
        "cut_points": {"r": bands("r"), "f": bands("f"), "m": bands("m", as_money=True)},
    }


class RecomputeOut(Schema):
    scored: int = Field(description="Rows kept: customers with paid visits, referrals or a grade set by hand")


@router.post("/analytics/rfm/recompute", response=RecomputeOut, summary="Work out every customer's scores now")
def recompute_rfm(request: ApiRequest) -> dict[str, Any]:
    organization = require(request, Perm.MANAGE_GRADES)
    return {"scored": scores_refresh(organization=organization)}


class GradeRulesIO(Schema):
    a_segments: list[SegmentCode] = Field(default_factory=list, description="A when the RFM segment is one of these")
    a_min_referrals: int | None = Field(default=None, ge=1, le=1000, description="or referrals brought ≥ this")
    a_min_tier_id: IdIn | None = Field(default=None, description="or a membership tier of at least this rank")
    b_segments: list[SegmentCode] = Field(default_factory=list)
    b_min_referrals: int | None = Field(default=None, ge=1, le=1000)
    b_min_tier_id: IdIn | None = None
    window_months: int = Field(default=12, ge=1, le=60, description="The RFM window")


def _rules_out(organization: Any) -> dict[str, Any]:
    rules = grade_rules(organization=organization)
    return {
        "a_segments": rules.a_segments,
        "a_min_referrals": rules.a_min_referrals,
        "a_min_tier_id": rules.a_min_tier_id,
        "b_segments": rules.b_segments,
        "b_min_referrals": rules.b_min_referrals,
        "b_min_tier_id": rules.b_min_tier_id,
        "window_months": rules.window_months,
    }


@router.get("/analytics/grade-rules", response=GradeRulesIO, summary="The A/B/C grade rules")
def get_grade_rules(request: ApiRequest) -> dict[str, Any]:
    return _rules_out(require(request, Perm.MANAGE_GRADES))


@router.put("/analytics/grade-rules", response=GradeRulesIO, summary="Set the grade rules and grade everyone again")
def put_grade_rules(request: ApiRequest, payload: GradeRulesIO) -> dict[str, Any]:
    organization = require(request, Perm.MANAGE_GRADES)
    data = payload.model_dump()
    data["a_min_tier"] = data.pop("a_min_tier_id")
    data["b_min_tier"] = data.pop("b_min_tier_id")
    grade_rules_save(organization=organization, data=data, by=request.user)
    return _rules_out(organization)


class GradeIn(Schema):
    grade: Literal["A", "B", "C"] | None = Field(description="Null: back to the rules' grade")
    reason: str = Field(max_length=200, description="Why; recorded in the file's history")


@router.post("/customers/{customer_id}/grade", response=CustomerOut, summary="Set or clear a grade by hand")
def set_grade(request: ApiRequest, customer_id: IdIn, payload: GradeIn) -> dict[str, Any]:
    require(request, Perm.MANAGE_GRADES)
    customer = get_scoped_or_404(Customer.objects.active(), request.organization, pk=customer_id)
    grade_override_set(customer=customer, grade=payload.grade or "", reason=payload.reason, by=request.user)
    return customer_out(_get_customer(request, customer_id), request.user)
