"""Reads of saved segments: the list, who is in one, and its conditions in words.

``segment_customers`` is the one answer to "which customers are in this
segment": the customer list's own selector under the segment's conditions. The
segment's page and API, its export, bulk messages and care rules all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huitou.analytics.models import Grade, RfmSegment, Segment
from huitou.analytics.segments import SEGMENT_FILTERS
from huitou.customers.models import Customer, Stage
from huitou.customers.selectors import customer_list
from huitou.loyalty.models import Tier
from huitou.tenancy.models import Organization, Shop, User


def segments_list(*, organization: Organization | int) -> QuerySet[Segment]:
    """The organization's segments by name, with who made and last changed them. One query."""
    return Segment.objects.for_org(organization).select_related("created_by", "updated_by").order_by("name", "pk")


def segment_filter_customers(
    *, organization: Organization | int, filters: Mapping[str, Any], with_tags: bool = False
) -> QuerySet[Customer]:
    """The active customers meeting segment conditions (a segment's ``filters``), newest first.

    Keys that are not conditions (from a later version) are left out. The
    queryset can be paginated, counted, exported, or used as a subquery:
    ``.filter(customer_id__in=segment_filter_customers(...).values("pk"))``.
    """
    conditions = {k: v for k, v in filters.items() if k in SEGMENT_FILTERS}
    return customer_list(organization=organization, with_tags=with_tags, **conditions)


def segment_customers(segment: Segment, *, with_tags: bool = False) -> QuerySet[Customer]:
    """The customers in ``segment`` now (active, of its organization only), newest first.

    For care rules and other audiences: ``customer_id__in=segment_customers(s).values("pk")``.
    ``with_tags`` brings each one's tag names as the customer list shows them.
    """
    return segment_filter_customers(organization=segment.organization_id, filters=segment.filters, with_tags=with_tags)


@dataclass(frozen=True)
class Condition:
    """One condition of a segment in words: what it is about, its value, and whether its option is gone."""

    label: str
    value: str
    gone: bool = False


LABELS: dict[str, Any] = {
    "stage": gettext_lazy("Stage"),
    "customer_grade": gettext_lazy("Customer grade"),
    "segment": gettext_lazy("RFM segment"),
    "tags": gettext_lazy("Tags"),
    "tier_id": gettext_lazy("Membership tier"),
    "owner_id": gettext_lazy("Owner"),
    "shop_id": gettext_lazy("Shop"),
    "last_visit_before_days": gettext_lazy("Last visit"),
    "last_visit_within_days": gettext_lazy("Last visit"),
    "spend": gettext_lazy("Lifetime spend"),
    "brand": gettext_lazy("Car brand"),
    "vehicle_age": gettext_lazy("Car age"),
}


def _choice(choices: Any, value: str) -> tuple[str, bool]:
    found = dict(choices).get(value)
    return (str(found), False) if found is not None else (value, True)


def _between(low: Any, high: Any, unit: str) -> str:
    if low is not None and high is not None:
        return _("%(low)s to %(high)s %(unit)s") % {"low": low, "high": high, "unit": unit}
    if low is not None:
        return _("at least %(low)s %(unit)s") % {"low": low, "unit": unit}
    return _("at most %(high)s %(unit)s") % {"high": high, "unit": unit}


def segment_conditions(segments: Iterable[Segment], *, organization: Organization | int) -> dict[int, list[Condition]]:
    """Each segment's conditions in words, by segment id, in the order of the form.

    The tiers, staff and shops named are read at once: at most three queries
    however many segments. A tier, member of staff or shop no longer there is
    shown by its id and marked ``gone``.
    """
    segments = list(segments)
    wanted: dict[str, set[int]] = {"tier_id": set(), "owner_id": set(), "shop_id": set()}
    for segment in segments:
        for key, ids in wanted.items():
            if isinstance(segment.filters.get(key), int):
                ids.add(segment.filters[key])
    names: dict[str, dict[int, str]] = {key: {} for key in wanted}
    for key, model in (("tier_id", Tier), ("owner_id", User), ("shop_id", Shop)):
        if wanted[key]:
            rows: Any = model.objects.for_org(organization).filter(pk__in=wanted[key])
            names[key] = {row.pk: str(row) for row in rows}
    found: dict[int, list[Condition]] = {}
    for segment in segments:
        f = segment.filters
        out: list[Condition] = []
        for key, choices in (
            ("stage", Stage.choices),
            ("customer_grade", Grade.choices),
            ("segment", RfmSegment.choices),
        ):
            if f.get(key):
                text, gone = _choice(choices, f[key])
                out.append(Condition(str(LABELS[key]), text, gone))
        if f.get("tags"):
            out.append(Condition(str(LABELS["tags"]), _(" or ").join(f["tags"])))
        for key in ("tier_id", "owner_id", "shop_id"):
            if key in f:
                name = names[key].get(f[key])
                out.append(Condition(str(LABELS[key]), name or f"#{f[key]}", name is None))
        if "last_visit_before_days" in f:
            days = f["last_visit_before_days"]
            out.append(
                Condition(str(LABELS["last_visit_before_days"]), _("more than %(days)s days ago") % {"days": days})
            )
        if "last_visit_within_days" in f:
            days = f["last_visit_within_days"]
            out.append(Condition(str(LABELS["last_visit_within_days"]), _("within %(days)s days") % {"days": days}))
        if "spend_min" in f or "spend_max" in f:
            out.append(Condition(str(LABELS["spend"]), _between(f.get("spend_min"), f.get("spend_max"), _("yuan"))))
        if f.get("brand"):
            out.append(Condition(str(LABELS["brand"]), f["brand"]))
        if "vehicle_age_min" in f or "vehicle_age_max" in f:
            age = _between(f.get("vehicle_age_min"), f.get("vehicle_age_max"), _("years"))
            out.append(Condition(str(LABELS["vehicle_age"]), age))
        found[segment.pk] = out
    return found
