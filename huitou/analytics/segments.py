"""Saved segments (客户分组): a name and the customer list's filters, kept to be used again.

A segment stores the keyword arguments of ``customers.selectors.customer_list``
(``SEGMENT_FILTERS``; only the conditions set, as JSON values), so the customer
list, its export, bulk messages and care rules read "who is in it" through the
same selector (``selectors.segment_customers``). The search box is not a
condition: a segment is a filter, not a search.

Options are stored by what does not change: a tier, a shop and a member of staff
by id, a tag by its name (tags are named, never renamed), a stage, grade and RFM
segment by their codes. When an option goes away (a tier retired, a member of
staff leaving), the condition keeps its value and so matches nobody new: a
segment narrows, it never silently widens to everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from huitou.analytics import errors
from huitou.analytics.models import Grade, RfmSegment, Segment
from huitou.customers.models import Stage
from huitou.loyalty.models import Tier
from huitou.tenancy.models import Organization, Shop, User

NAME_MAX = 50
TAGS_MAX = 20
DAYS_MAX = 3650
AGE_MAX = 50
SPEND_LIMIT = Decimal("99999999.99")

# The conditions a segment can hold: ``customer_list``'s keyword arguments, in the order pages show them.
SEGMENT_FILTERS = (
    "stage",
    "customer_grade",
    "segment",
    "tags",
    "tier_id",
    "owner_id",
    "shop_id",
    "last_visit_before_days",
    "last_visit_within_days",
    "spend_min",
    "spend_max",
    "brand",
    "vehicle_age_min",
    "vehicle_age_max",
)


class _Problems(dict[str, list[Any]]):
    def add(self, field: str, message: Any) -> None:
        self.setdefault(field, []).append(message)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: Any, low: int, high: int) -> int | None:
    """``value`` as a whole number from ``low`` to ``high``; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 6:
            return None
    if not isinstance(value, int | str):
        return None
    number = int(value)
    return number if low <= number <= high else None


def _id(value: Any) -> int | None:
    """An id given as a number or as digits (a form's choice); None when it cannot be one."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value < 2**63 else None


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount > SPEND_LIMIT or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def _tags(value: Any) -> list[str] | None:
    """Tag names from a list or a comma-separated text (， and 、 too), each once, in the order given."""
    if isinstance(value, str):
        value = value.replace("，", ",").replace("、", ",").split(",")
    if not isinstance(value, list | tuple):
        return None
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            return None
        name = item.strip()
        if len(name) > 30:
            return None
        if name and name not in names:
            names.append(name)
    return names if len(names) <= TAGS_MAX else None


def segment_filters_clean(*, organization: Organization | int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The segment conditions in ``data`` (keys of ``SEGMENT_FILTERS``), checked and normalised.

    Blank values are left out. Refused with a message per field: a stage,
    grade or RFM segment not on the list, a tier, member of staff or shop not
    of this organization, numbers out of range or a range the wrong way
    round. Queries: one per tier, staff member or shop named.
    """
    org_id = organization.pk if isinstance(organization, Organization) else int(organization)
    problems = _Problems()
    clean: dict[str, Any] = {}
    value = {k: data.get(k) for k in SEGMENT_FILTERS}
    for key, choices, message in (
        ("stage", Stage.values, errors.STAGE_INVALID),
        ("customer_grade", Grade.values, errors.GRADE_INVALID),
        ("segment", RfmSegment.values, errors.RFM_SEGMENT_INVALID),
    ):
        if not _blank(value[key]):
            if value[key] in choices:
                clean[key] = value[key]
            else:
                problems.add(key, message)
    if not _blank(value["tags"]):
        tags = _tags(value["tags"])
        if tags is None:
            problems.add("tags", errors.TAGS_INVALID % {"max": TAGS_MAX})
        elif tags:
            clean["tags"] = tags
    for key, model, message in (
        ("tier_id", Tier, errors.TIER_UNKNOWN),
        ("owner_id", User, errors.OWNER_UNKNOWN),
        ("shop_id", Shop, errors.SHOP_UNKNOWN),
    ):
        if _blank(value[key]):
            continue
        pk = _id(value[key])
        if pk is None or not model.objects.for_org(org_id).filter(pk=pk).exists():
            problems.add(key, message)
        else:
            clean[key] = pk
    for key in ("last_visit_before_days", "last_visit_within_days"):
        if not _blank(value[key]):
            days = _whole(value[key], 1, DAYS_MAX)
            if days is None:
                problems.add(key, errors.DAYS_INVALID)
            else:
                clean[key] = days
    before, within = clean.get("last_visit_before_days"), clean.get("last_visit_within_days")
    if before is not None and within is not None and within <= before:
        problems.add("last_visit_within_days", errors.DAYS_REVERSED)
    for key in ("spend_min", "spend_max"):
        if not _blank(value[key]):
            amount = _money(value[key])
            if amount is None:
                problems.add(key, errors.SPEND_INVALID)
            else:
                clean[key] = str(amount)  # JSON keeps money as a decimal string
    if "spend_min" in clean and "spend_max" in clean and Decimal(clean["spend_min"]) > Decimal(clean["spend_max"]):
        problems.add("spend_max", errors.SPEND_REVERSED)
    if not _blank(value["brand"]):
        brand = str(value["brand"]).strip()
        if len(brand) > 30:
            problems.add("brand", errors.BRAND_TOO_LONG)
        else:
            clean["brand"] = brand
    for key in ("vehicle_age_min", "vehicle_age_max"):
        if not _blank(value[key]):
            age = _whole(value[key], 0, AGE_MAX)
            if age is None:
                problems.add(key, errors.AGE_INVALID)
            else:
                clean[key] = age
    young, old = clean.get("vehicle_age_min"), clean.get("vehicle_age_max")
    if young is not None and old is not None and young > old:
        problems.add("vehicle_age_max", errors.AGE_REVERSED)
    if problems:
        raise ValidationError(dict(problems))
    return {k: clean[k] for k in SEGMENT_FILTERS if k in clean}


def segment_filters_from_list(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The customer list's filters (``customers.views.list_filters``) as segment conditions, unchecked:
    its one tag becomes ``tags``; the search box is left out."""
    found = {k: v for k, v in filters.items() if k in SEGMENT_FILTERS and not _blank(v)}
    if not _blank(filters.get("tag")):
        found["tags"] = [filters["tag"]]
    return found


def _check(
    organization_id: int, name: str, filters: Mapping[str, Any], exclude: int | None
) -> tuple[str, dict[str, Any]]:
    name = (name or "").strip()
    problems = _Problems()
    try:
        clean = segment_filters_clean(organization=organization_id, data=filters)
    except ValidationError as exc:
        problems.update(exc.message_dict)
        clean = {}
    if not name:
        problems.add("name", errors.SEGMENT_NAME_REQUIRED)
    elif len(name) > NAME_MAX:
        problems.add("name", errors.SEGMENT_NAME_TOO_LONG % {"max": NAME_MAX})
    elif Segment.objects.for_org(organization_id).filter(name=name).exclude(pk=exclude or 0).exists():
        problems.add("name", errors.SEGMENT_NAME_TAKEN)
    if not problems and not clean:
        problems.add("__all__", errors.SEGMENT_EMPTY)
    if problems:
        raise ValidationError(dict(problems))
    return name, clean


def _save(segment: Segment) -> None:
    """Save under the unique name: a name taken by a request at the same moment is refused, not a 500."""
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:
        raise ValidationError({"name": [errors.SEGMENT_NAME_TAKEN]}) from exc


def segment_create(
    *, organization: Organization | int, name: str, filters: Mapping[str, Any], by: User | None
) -> Segment:
    """Save a new segment: a name unique in the organization and at least one condition."""
    org_id = organization.pk if isinstance(organization, Organization) else int(organization)
    name, clean = _check(org_id, name, filters, exclude=None)
    now = timezone.now()
    segment = Segment(
        organization_id=org_id,
        name=name,
        filters=clean,
        created_by=by,
        created_at=now,
        updated_by=by,
        updated_at=now,
    )
    _save(segment)
    return segment


def segment_update(*, segment: Segment, name: str, filters: Mapping[str, Any], by: User | None) -> Segment:
    """Rename a segment and replace its conditions (all of them: what is not given is no longer a condition)."""
    name, clean = _check(segment.organization_id, name, filters, exclude=segment.pk)
    segment.name, segment.filters = name, clean
    segment.updated_by, segment.updated_at = by, timezone.now()
    _save(segment)
    return segment


def segment_delete(*, segment: Segment, by: User | None) -> None:
    """Delete a segment. Bulk sends already started keep the conditions they were started with."""
    Segment.objects.for_org(segment.organization_id).filter(pk=segment.pk).delete()
