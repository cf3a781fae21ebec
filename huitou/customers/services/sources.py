"""Where customers come from: the sources an organization starts with."""

from __future__ import annotations

from huitou.customers.models import (
    Source,
)
from huitou.tenancy.models import Organization

DEFAULT_SOURCES = (
    ("opening_promo", "开业酬宾"),
    ("flyer", "传单"),
    ("dealer_partner", "合作车商"),
    ("gas_station", "加油站"),
    ("wechat", "微信"),
    ("referral", "老带新"),
    ("competitor_switch", "转店"),
    ("walk_in", "自然到店"),
    ("online", "网络平台"),
    ("event", "活动"),
)


def sources_seed(*, organization: Organization) -> None:
    """Give a new organization the sources seen in the field."""
    Source.objects.bulk_create(
        [
            Source(organization=organization, code=code, label=label, sort_order=i)
            for i, (code, label) in enumerate(DEFAULT_SOURCES)
        ],
        ignore_conflicts=True,
    )
