"""Merging files: the kept file keeps its score row; a manual grade of the other moves when it has none."""

from __future__ import annotations

from typing import Any

from huitou.analytics.models import CustomerScore
from huitou.customers import events as customer_events
from huitou.customers.models import Customer


def on_customers_merging(sender: Any, keep: Customer, other: Customer, by: Any, **kwargs: Any) -> None:
    org_id = keep.organization_id
    scores = CustomerScore.objects.for_org(org_id)
    theirs = scores.filter(customer=other).first()
    if theirs is None:
        return
    if not scores.filter(customer=keep).exists():
        # The figures are recomputed on the next refresh; the manual grade and its reason stay.
        scores.filter(pk=theirs.pk).update(customer=keep)
        return
    scores.filter(pk=theirs.pk).delete()


customer_events.customers_merging.connect(on_customers_merging, dispatch_uid="analytics.fold_merged_score")
