"""The store manager's settings for each kind of care: on or off, days ahead, who does it, the script,
and whom it reaches (grades and tags, ``audience``).

A kind without a ``CareRule`` row works by ``rules.DEFAULTS``; saving writes
the row. The script's placeholders are checked here, because the sweep
fills them for thousands of tasks at night: a ``{`` left open or a name it
does not know would fail there, or reach a customer as written.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from huitou.analytics.models import Grade
from huitou.care import errors
from huitou.care.models import CareKind, CareRule, CareRuleTag, OwnerMode
from huitou.care.services.rules import DEFAULTS
from huitou.customers.models import Tag
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm

MAX_LEAD_DAYS = 120
MAX_SCRIPT = 500
MAX_TAGS = 20

# What each kind's script may name: what the sweep (or the paid order) knows when it makes the task.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    CareKind.CALLBACK: ("name", "shop"),
    CareKind.MAINTENANCE: ("name", "plate", "service", "due_date", "shop"),
    CareKind.INSURANCE: ("name", "plate", "due_date", "shop"),
    CareKind.INSPECTION: ("name", "plate", "due_date", "shop"),
    CareKind.BIRTHDAY: ("name", "due_date", "shop"),
    CareKind.FESTIVAL: ("name", "festival", "due_date", "shop"),
    CareKind.DECLINED_WORK: ("name", "plate", "service", "due_date", "shop"),
    CareKind.WINBACK: ("name", "shop"),
    CareKind.WARRANTY: ("name", "plate", "service", "due_date", "shop"),
    CareKind.COUPON_EXPIRING: ("name", "coupon", "due_date", "shop"),
    CareKind.CARD_EXPIRING: ("name", "card", "uses_left", "due_date", "shop"),
}
ANY_PLACEHOLDER = ("name", "plate", "service", "due_date", "shop")
# Care that follows an order can go to that order's service advisor.
FROM_AN_ORDER = frozenset({CareKind.CALLBACK, CareKind.DECLINED_WORK, CareKind.WARRANTY})
# A callback is due within 48 hours of the visit: it has no days ahead to set.
WITHOUT_LEAD_DAYS = frozenset({CareKind.CALLBACK})
# A callback follows every paid order (the 48-hour rule): it reaches every customer.
WITHOUT_AUDIENCE = frozenset({CareKind.CALLBACK})


def placeholders_for(kind: str) -> tuple[str, ...]:
    return PLACEHOLDERS.get(kind, ANY_PLACEHOLDER)


def script_problem(script: str, kind: str) -> Any:
    """Why the script cannot be filled (None: it can): a brace left open, or a placeholder it does not know."""
    allowed = placeholders_for(kind)
    refusal = errors.RULE_SCRIPT_PLACEHOLDER % {"allowed": " ".join(f"{{{p}}}" for p in allowed)}
    try:
        parts = list(string.Formatter().parse(script))
    except ValueError:
        return refusal
    for _text, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            return refusal
    return None


def _lead_days(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    try:
        days = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        return None
    return days if 0 <= days <= MAX_LEAD_DAYS else None


def care_rule_save(*, organization: Organization, kind: str, data: Mapping[str, Any], by: User) -> CareRule:
    """Set one kind's rule from ``data`` (``is_active``, ``lead_days``, ``owner_mode``, ``owner``, ``script``,
    ``grades``, ``tags``).

    Fields left out keep their value (the defaults for a kind without a row).
    ``owner`` is a staff member or their id and counts only with the mode
    ``fixed``; a blank script means the starter script. ``grades`` is a list
    of A/B/C and ``tags`` a list of the organization's tags (or their ids);
    empty lists reach everyone. ``by`` is the store manager (the page
    requires the settings permission).
    """
    if kind not in DEFAULTS:
        raise ValidationError({"kind": [errors.RULE_KIND_UNKNOWN]})
    on, lead, mode, _script = DEFAULTS[kind]
    with transaction.atomic():
        rule = CareRule.objects.for_org(organization).select_for_update().filter(kind=kind).first()
        if rule is None:
            rule = CareRule(organization=organization, kind=kind, is_active=on, lead_days=lead, owner_mode=mode)
        problems: dict[str, list[Any]] = {}
        if "is_active" in data:
            rule.is_active = bool(data["is_active"])
        if "lead_days" in data and kind not in WITHOUT_LEAD_DAYS:
            days = _lead_days(data["lead_days"])
            if days is None:
                problems["lead_days"] = [errors.RULE_LEAD_DAYS]
            else:
                rule.lead_days = days
        if "owner_mode" in data:
            owner_mode = str(data["owner_mode"] or "")
            if owner_mode not in OwnerMode.values:
                problems["owner_mode"] = [errors.RULE_OWNER_MODE]
            elif owner_mode == OwnerMode.ADVISOR and kind not in FROM_AN_ORDER:
                problems["owner_mode"] = [errors.RULE_ADVISOR_ONLY_ORDERS]
            else:
                rule.owner_mode = owner_mode
        if rule.owner_mode == OwnerMode.FIXED and "owner_mode" not in problems:
            owner = _staff(organization, data.get("owner", rule.owner_id))
            if owner is None:
                problems["owner"] = [errors.RULE_OWNER_REQUIRED]
            else:
                rule.owner = owner
        else:
            rule.owner = None
        if "script" in data:
            script = str(data["script"] or "").strip()
            if len(script) > MAX_SCRIPT:
                problems["script"] = [errors.RULE_SCRIPT_TOO_LONG]
            elif problem := script_problem(script, kind):
                problems["script"] = [problem]
            else:
                rule.script = script
        if "grades" in data:
            grades = _grades(data["grades"])
            if grades is None:
                problems["grades"] = [errors.RULE_GRADE_UNKNOWN]
            elif grades and kind in WITHOUT_AUDIENCE:
                problems["grades"] = [errors.RULE_AUDIENCE_CALLBACK]
            else:
                rule.grades = grades
        tag_ids: list[int] | None = None
        if "tags" in data:
            tag_ids, problem = _tags(organization, data["tags"])
            if problem is None and tag_ids and kind in WITHOUT_AUDIENCE:
                problem = errors.RULE_AUDIENCE_CALLBACK
            if problem is not None:
                problems["tags"] = [problem]
        if problems:
            raise ValidationError(problems)
        rule.save()
        if tag_ids is not None:
            _tags_set(rule, tag_ids)
    return rule


def _grades(raw: Any) -> list[str] | None:
    """A/B/C in that order, each once (None: not a list of grades)."""
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        return None
    wanted = {str(g) for g in raw}
    if not wanted <= set(Grade.values):
        return None
    return [g for g in Grade.values if g in wanted]


def _tags(organization: Organization, raw: Any) -> tuple[list[int], Any]:
    """The ids of the organization's tags in ``raw`` (tags or ids), and why not (None: they are)."""
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        return [], errors.RULE_TAG_UNKNOWN
    ids: set[int] = set()
    for item in raw:
        if isinstance(item, Tag):
            item = item.pk
        if isinstance(item, int) and not isinstance(item, bool):
            ids.add(item)
        elif isinstance(item, str) and item.strip().isdecimal():
            ids.add(int(item))
        else:
            return [], errors.RULE_TAG_UNKNOWN
    if len(ids) > MAX_TAGS:
        return [], errors.RULE_TOO_MANY_TAGS % {"max": MAX_TAGS}
    if ids and Tag.objects.for_org(organization).filter(pk__in=ids).count() != len(ids):
        return [], errors.RULE_TAG_UNKNOWN  # another organization's tag, or none at all
    return sorted(ids), None


def _tags_set(rule: CareRule, tag_ids: list[int]) -> None:
    """Make the rule's tags exactly ``tag_ids`` (already checked to be the organization's)."""
    links = CareRuleTag.objects.for_org(rule.organization_id).filter(rule=rule)
    links.exclude(tag_id__in=tag_ids).delete()
    have = set(links.values_list("tag_id", flat=True))
    CareRuleTag.objects.bulk_create(
        [CareRuleTag(organization_id=rule.organization_id, rule=rule, tag_id=t) for t in tag_ids if t not in have]
    )


def _staff(organization: Organization, wanted: Any) -> User | None:
    """An active staff member of the organization who works the care list, from a user or an id."""
    if isinstance(wanted, User):
        wanted = wanted.pk
    if wanted in (None, "") or isinstance(wanted, bool):
        return None
    try:
        pk = int(wanted)
    except (TypeError, ValueError):
        return None
    user = User.objects.for_org(organization).filter(pk=pk, is_active=True).first()
    if user is None or not user.has_role_perm(Perm.FOLLOW_UP):
        return None
    return user
