"""Who a care rule reaches: the customers' grades (A/B/C) and tags, as a filter in the sweep's own query.

A rule with no grade and no tag reaches everyone. With grades, a customer
counts by the grade shown on the file — a manual grade first
(``analytics.grades.customers_with_grade``); a customer never graded yet (no
score row) is in no grade. With tags, a customer needs one of them; with both,
a customer needs both. The filter is one ``IN (SELECT ...)`` per part, on the
customer id the sweep already selects, so the sweep reads what is due in the
same number of queries whoever the rule reaches, and a grade or tag changed
between two sweeps counts from the next one (the tasks already made stay).
"""

from __future__ import annotations

from django.db.models import Q

from huitou.analytics.grades import customers_with_grade
from huitou.care.services.rules import RuleSettings
from huitou.customers.models import CustomerTag


def audience_q(rule: RuleSettings, organization_id: int, customer: str = "customer_id") -> Q:
    """The rule's audience as a filter on the field ``customer`` (a customer's id); ``Q()`` for everyone."""
    match = Q()
    if rule.grades:
        match &= Q(**{f"{customer}__in": customers_with_grade(organization=organization_id, grades=rule.grades)})
    if rule.tag_ids:
        tagged = CustomerTag.objects.filter(organization_id=organization_id, tag_id__in=rule.tag_ids)
        match &= Q(**{f"{customer}__in": tagged.values("customer_id")})
    return match
