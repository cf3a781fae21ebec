"""Reminders of what a customer holds and is about to lose: coupons and package cards near their last day.

The loyalty app names what can still be used and expires soon
(``coupons_expiring``, ``cards_expiring``); this module turns it into care
tasks, one phone call per customer and last day (docs/decisions.md):

- **coupon_expiring** — the customer's issued coupons (not used, revoked or
  expired) whose last day falls on the same day, in one task. Key
  ``coupon_expiring:<customer>:<last day>``.
- **card_expiring** — the package cards with uses left the customer can use
  (a vehicle card: the car's owner now, as the card goes with the car) whose
  last day falls on the same day, in one task. Key
  ``card_expiring:<customer>:<last day>``.

Each is due the rule's days ahead of the last day, never before the coupon or
card was issued. One select per kind reads what has no task yet (``NOT
EXISTS`` on the task's key); the rows come ordered by customer and day, so
they are grouped as they stream. A missed night is caught up while the
coupon or card can still be used; once its last day has passed it gets no
reminder. Deleted files (and deleted cars, for a vehicle card) are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from huitou.care.models import CareKind, CareTask
from huitou.care.services.audience import audience_q
from huitou.care.services.rules import RuleSettings, owner_for
from huitou.care.services.wording import day_words, fill
from huitou.loyalty.selectors.rewards import coupons_expiring
from huitou.loyalty.selectors.wallet import cards_expiring
from huitou.tenancy.models import Organization

BATCH = 1000
JOIN = "、"


def _without_task(rows: QuerySet[Any], org: Organization, kind: str, customer: str) -> QuerySet[Any]:
    """``rows`` (a coupon or a card each) keyed ``<kind>:<customer>:<last day>``, those without a task."""
    key = Concat(
        Value(f"{kind}:"),
        Cast(customer, CharField()),
        Value(":"),
        Cast("expires_on", CharField()),
        output_field=CharField(),
    )
    taken = CareTask.objects.filter(organization_id=org.pk, kind=kind, key=OuterRef("task_key"))
    return rows.annotate(task_key=key).filter(~Exists(taken))


def _due_on(last_day: dt.date, rule: RuleSettings, issued: list[dt.datetime]) -> dt.date:
    """The rule's days ahead of the last day, not before the first of the group was issued."""
    return max(last_day - dt.timedelta(days=rule.lead_days), min(timezone.localdate(at) for at in issued))


def _counted(names: list[str]) -> str:
    """ "20元工时券 ×2、免费洗车券": each name once, in order, with how many when more than one."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return JOIN.join(name if n == 1 else f"{name} ×{n}" for name, n in counts.items())


def coupons(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    kind = CareKind.COUPON_EXPIRING
    held = coupons_expiring(organization=org, within_days=rule.lead_days, today=day).filter(audience_q(rule, org.pk))
    rows = (
        _without_task(held, org, kind, "customer_id")
        .order_by("customer_id", "expires_on", "pk")
        .values("task_key", "customer_id", "customer__name", "customer__owner_id", "name", "expires_on", "issued_at")
    )
    for key, group in groupby(rows.iterator(chunk_size=BATCH), key=itemgetter("task_key")):
        items = list(group)
        first, last_day = items[0], items[0]["expires_on"]
        what = _counted([row["name"] for row in items])
        yield {
            "kind": kind,
            "key": key,
            "customer_id": first["customer_id"],
            "vehicle_id": None,
            "service_id": None,
            "owner_id": owner_for(rule, customer_owner_id=first["customer__owner_id"]),
            "due_on": _due_on(last_day, rule, [row["issued_at"] for row in items]),
            "reason": (_("%(what)s, expiring %(due)s") % {"what": what, "due": day_words(last_day)})[:200],
            "script": fill(
                rule.script, name=first["customer__name"], coupon=what, due_date=day_words(last_day), shop=org.name
            ),
        }


def cards(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    kind = CareKind.CARD_EXPIRING
    held = cards_expiring(organization=org, within_days=rule.lead_days, today=day).filter(
        audience_q(rule, org.pk, "holder_id")  # who can use the card now
    )
    rows = (
        _without_task(held, org, kind, "holder_id")
        .annotate(
            holder_name=Coalesce("vehicle__customer__name", "customer__name"),
            holder_owner_id=Coalesce("vehicle__customer__owner_id", "customer__owner_id"),
        )
        .order_by("holder_id", "expires_on", "pk")
        .values(
            "task_key",
            "holder_id",
            "holder_name",
            "holder_owner_id",
            "vehicle_id",
            "name",
            "uses_left",
            "expires_on",
            "sold_at",
        )
    )
    for key, group in groupby(rows.iterator(chunk_size=BATCH), key=itemgetter("task_key")):
        items = list(group)
        first, last_day = items[0], items[0]["expires_on"]
        left = [
            ngettext("%(card)s: %(left)s use left", "%(card)s: %(left)s uses left", row["uses_left"])
            % {"card": row["name"], "left": row["uses_left"]}
            for row in items
        ]
        vehicles = {row["vehicle_id"] for row in items}
        yield {
            "kind": kind,
            "key": key,
            "customer_id": first["holder_id"],
            "vehicle_id": vehicles.pop() if len(vehicles) == 1 else None,  # one car's cards: its plate shows
            "service_id": None,
            "owner_id": owner_for(rule, customer_owner_id=first["holder_owner_id"]),
            "due_on": _due_on(last_day, rule, [row["sold_at"] for row in items]),
            "reason": (_("%(what)s, expiring %(due)s") % {"what": JOIN.join(left), "due": day_words(last_day)})[:200],
            "script": fill(
                rule.script,
                name=first["holder_name"],
                card=JOIN.join(row["name"] for row in items),
                uses_left=JOIN.join(str(row["uses_left"]) for row in items),
                due_date=day_words(last_day),
                shop=org.name,
            ),
        }
