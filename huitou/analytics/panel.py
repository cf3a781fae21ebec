"""What the customer file and list show of a customer's score: grade, RFM segment, churn risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huitou.analytics.churn import churn_reason
from huitou.analytics.grades import score_of
from huitou.analytics.models import ChurnRisk, CustomerScore, Grade, RfmSegment
from huitou.customers.models import Customer


@dataclass(frozen=True)
class ScorePanel:
    score: CustomerScore
    grade: str
    grade_label: str
    overridden: bool
    segment: str
    segment_label: str
    churn_risk: str
    churn_label: str
    churn_reason: str


def score_panel(customer: Customer) -> ScorePanel | None:
    """The customer's score as shown (None when never scored). Reads ``customer.score`` loaded with the row."""
    score = score_of(customer)
    if score is None:
        return None
    grade = score.effective_grade
    return ScorePanel(
        score=score,
        grade=grade,
        grade_label=str(Grade(grade).label),
        overridden=bool(score.grade_override),
        segment=score.segment,
        segment_label=str(RfmSegment(score.segment).label) if score.segment else "",
        churn_risk=score.churn_risk,
        churn_label=str(ChurnRisk(score.churn_risk).label) if score.churn_risk else "",
        churn_reason=churn_reason(score),
    )


def score_out(customer: Customer) -> dict[str, Any]:
    """The API's ``rfm``, ``grade`` and ``churn_risk`` of a customer (``customer.score`` loaded with the row)."""
    panel = score_panel(customer)
    if panel is None:
        return {"rfm": None, "grade": None, "churn_risk": None}
    score = panel.score
    return {
        "rfm": {"r": score.r, "f": score.f, "m": score.m, "segment": score.segment} if score.segment else None,
        "grade": panel.grade,
        "churn_risk": (
            {
                "level": score.churn_risk,
                "reason": panel.churn_reason,
                "interval_days": score.interval_days,
                "gap_days": score.gap_days,
            }
            if score.churn_risk
            else None
        ),
    }
