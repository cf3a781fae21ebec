"""Each kind of care's settings in an organization: its row, or the defaults below."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from huitou.care.models import CareKind, CareRule, OwnerMode
from huitou.tenancy.models import Organization, User


@dataclass(frozen=True)
class RuleSettings:
    kind: str
    is_active: bool
    lead_days: int
    owner_mode: str
    owner_id: int | None
    script: str
    # The audience (``audience.audience_q``): grades A/B/C and tag ids; empty reaches everyone.
    grades: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()

    @property
    def for_everyone(self) -> bool:
        return not self.grades and not self.tag_ids


# kind: (on, days ahead, owner, suggested script)
DEFAULTS: dict[str, tuple[bool, int, str, Any]] = {
    CareKind.CALLBACK: (
        True,
        2,  # within 48 hours of the visit
        OwnerMode.ADVISOR,
        _(
            "Hello {name}, this is {shop}. How is the car after the service? "
            "Was everything done as agreed, and how satisfied are you (1 to 5)?"
        ),
    ),
    CareKind.MAINTENANCE: (
        True,
        7,
        OwnerMode.CUSTOMER_OWNER,
        _("Hello {name}, {plate} will soon be due for {service} ({due_date}). Shall we book a time for you?"),
    ),
    CareKind.INSURANCE: (
        True,
        30,
        OwnerMode.CUSTOMER_OWNER,
        _("Hello {name}, the insurance of {plate} ends on {due_date}. We can help you compare and renew."),
    ),
    CareKind.INSPECTION: (
        True,
        30,
        OwnerMode.CUSTOMER_OWNER,
        _("Hello {name}, {plate} is due for its annual inspection by {due_date}. We can do it for you."),
    ),
    # Warranty: the days ahead of the day the promise on an order line lapses (``sweep_warranty``).
    CareKind.WARRANTY: (
        True,
        14,
        OwnerMode.CUSTOMER_OWNER,
        _(
            "Hello {name}, the warranty on {service} for {plate} ends around {due_date}. If anything is not right, "
            "come in before then and we will put it right free of charge."
        ),
    ),
    CareKind.BIRTHDAY: (
        True,
        3,
        OwnerMode.CUSTOMER_OWNER,
        _("Happy birthday, {name}! Everyone at {shop} wishes you a wonderful year and safe driving."),
    ),
    CareKind.FESTIVAL: (
        True,
        7,
        OwnerMode.CUSTOMER_OWNER,
        _(
            "Hello {name}, {shop} wishes you a happy {festival}. Before a long drive over the holiday, "
            "we can check the tyres, brakes and fluids for you free of charge."
        ),
    ),
    # Declined work and win-back: the days are counted after the work was declined / the customer went quiet.
    CareKind.DECLINED_WORK: (
        True,
        14,
        OwnerMode.ADVISOR,
        _("Hello {name}, last time we suggested {service} for {plate}. Shall we book a time to have it done?"),
    ),
    CareKind.WINBACK: (
        True,
        0,
        OwnerMode.CUSTOMER_OWNER,
        _("Hello {name}, we have not seen you at {shop} for a while. How is the car? We have an offer for you."),
    ),
    # Coupons and package cards: the days ahead of their last day (``sweep_expiring``); a card's uses take longer.
    CareKind.COUPON_EXPIRING: (
        True,
        7,
        OwnerMode.CUSTOMER_OWNER,
        _(
            "Hello {name}, this is {shop}. Your {coupon} can be used until {due_date}. Do come in before then "
            "so it does not go to waste; shall we book a time for you?"
        ),
    ),
    CareKind.CARD_EXPIRING: (
        True,
        14,
        OwnerMode.CUSTOMER_OWNER,
        _(
            "Hello {name}, this is {shop}. Your {card} still has {uses_left} left and can be used until {due_date}. "
            "Do come in before then so nothing you paid for goes to waste; shall we book a time for you?"
        ),
    ),
}


def rules_for(organization: Organization | int) -> dict[str, RuleSettings]:
    """Every kind's settings (one query: the rows with their tags joined): the organization's rows over the
    defaults."""
    rows = (
        CareRule.objects.for_org(organization)
        .values("kind", "is_active", "lead_days", "owner_mode", "owner_id", "script", "grades", "tag_links__tag_id")
        .order_by("kind", "tag_links__tag_id")
    )
    found: dict[str, Mapping[str, Any]] = {}
    tags: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row["kind"], row)
        if row["tag_links__tag_id"] is not None:
            tags.setdefault(row["kind"], []).append(row["tag_links__tag_id"])
    settings: dict[str, RuleSettings] = {}
    for kind, (on, lead, owner_mode, script) in DEFAULTS.items():
        rule = found.get(kind)
        if rule is None:
            settings[kind] = RuleSettings(kind, on, lead, owner_mode, None, str(script))
        else:
            settings[kind] = RuleSettings(
                kind,
                rule["is_active"],
                rule["lead_days"],
                rule["owner_mode"],
                rule["owner_id"],
                rule["script"] or str(script),
                grades=tuple(rule["grades"] or ()),
                tag_ids=tuple(tags.get(kind, ())),
            )
    return settings


def owner_for(rule: RuleSettings, *, customer_owner_id: int, advisor_id: int | None = None) -> int:
    """Who does a task of this rule: one person, always."""
    if rule.owner_mode == OwnerMode.FIXED and rule.owner_id is not None:
        return rule.owner_id
    if rule.owner_mode == OwnerMode.ADVISOR and advisor_id is not None:
        return advisor_id
    return customer_owner_id


def rule_owner_valid(organization: Organization, owner: User | None) -> bool:
    return owner is not None and owner.organization_id == organization.pk and owner.is_active
