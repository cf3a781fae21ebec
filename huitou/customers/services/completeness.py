"""How complete a customer file is, kept on the file for lists and filters."""

from __future__ import annotations

from huitou.customers import events
from huitou.customers.models import (
    Customer,
    Vehicle,
)
from huitou.lib import completeness as completeness_lib


def customer_refresh_completeness(*, customer: Customer) -> int:
    """The file's score from its facts, written when it changed (``customer_completeness_changed``)."""
    has_vehicle = Vehicle.objects.for_org(customer.organization_id).active().filter(customer=customer).exists()
    score = completeness_lib.completeness(customer.completeness_facts(has_vehicle))
    if score != customer.completeness:
        customer.completeness = score
        Customer.objects.for_org(customer.organization_id).filter(pk=customer.pk).update(completeness=score)
        events.customer_completeness_changed.send(sender=Customer, customer=customer)
    return score
