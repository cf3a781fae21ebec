"""A customer's tags, set by name."""

from __future__ import annotations

from collections.abc import Iterable

from huitou.customers.models import (
    Customer,
    CustomerTag,
    Tag,
)


def customer_tags_set(*, customer: Customer, names: Iterable[str]) -> None:
    """Make the customer's tags exactly ``names``, creating the tags that do not exist yet."""
    org_id = customer.organization_id
    wanted = set(names)
    existing = {t.name: t for t in Tag.objects.for_org(org_id).filter(name__in=wanted)}
    for name in wanted - existing.keys():
        existing[name] = Tag.objects.create(organization_id=org_id, name=name)
    CustomerTag.objects.for_org(org_id).filter(customer=customer).exclude(tag__name__in=wanted).delete()
    have = set(CustomerTag.objects.for_org(org_id).filter(customer=customer).values_list("tag__name", flat=True))
    CustomerTag.objects.bulk_create(
        [CustomerTag(organization_id=org_id, customer=customer, tag=existing[n]) for n in wanted - have]
    )
