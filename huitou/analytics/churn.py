"""Churn risk in words: the customer's own rhythm against the days since the last visit (see ``rfm``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from huitou.analytics.models import CustomerScore


def churn_reason(score: CustomerScore | None) -> str:
    """ "Comes every 62 days on average, not seen for 150 days" in the reader's language; empty without visits."""
    if score is None or not score.churn_risk or score.interval_days is None or score.gap_days is None:
        return ""
    if score.visit_days > 1:
        return _("Comes every %(interval)s days on average, not seen for %(gap)s days") % {
            "interval": score.interval_days,
            "gap": score.gap_days,
        }
    return _("One visit so far (customers here come every %(interval)s days), not seen for %(gap)s days") % {
        "interval": score.interval_days,
        "gap": score.gap_days,
    }
