"""Schemathesis against the API: every operation, with generated requests, answers without a server
error and as its schema says (``not_a_server_error``, ``response_schema_conformance``).

The schema is read from the project's WSGI application and the requests go through it in-process,
as a store manager of a seeded organization with a real bearer token. Path ids are mostly those of
the seeded objects (so that requests reach the services), sometimes the generated ones (404s and
bounds). The seed is fixed and the examples are bounded, so the run is the same on every machine
and stays within about two minutes per database. Select it with ``-m schemathesis``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from huitou.analytics.segments import segment_create
from huitou.api.services import token_create
from huitou.care.models import CareTask
from huitou.care.services.complaints import complaint_open
from huitou.customers.models import Customer, Vehicle
from huitou.lifecycle.services.followups import followup_record
from huitou.messaging.services.send import message_send
from huitou.service.models import ServiceOrder
from huitou.service.services.orders import order_add_line, recommendation_add
from huitou.tenancy.models import Organization, User
from huitou.wsgi import application

# Examples per operation: 57 operations × this many requests is the whole run.
MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def connection_kept_open() -> Iterator[None]:
    """As Django's test client does: a request's end must not close the connection that holds the
    test's transaction (on PostgreSQL it would, since the transaction is not in autocommit)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def seeded(
    org: Organization,
    owner: User,
    advisor: User,
    tech: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    make_order: Callable[..., ServiceOrder],
    make_service_item: Callable[..., Any],
    make_part: Callable[..., Any],
) -> dict[str, int]:
    """One of each object a path names, in the store manager's organization: their ids by path parameter."""
    customer = make_customer(phone="13812345678", by=owner)
    vehicle = make_vehicle(customer)
    service_item, part = make_service_item(), make_part()
    order = make_order(vehicle=vehicle, mileage_km=12000)
    line = order_add_line(order=order, by=advisor, service=service_item)
    recommendation = recommendation_add(
        order=order, by=tech, description="更换刹车片", urgency="soon", service=service_item
    )
    today = timezone.localdate(order.opened_at)
    followup_record(customer=customer, by=advisor, channel="phone", content="问保养", next_due=today)
    return {
        "customer_id": customer.pk,
        "vehicle_id": vehicle.pk,
        "order_id": order.pk,
        "line_id": line.pk,
        "recommendation_id": recommendation.pk,
        "service_id": service_item.pk,
        "part_id": part.pk,
        "staff_id": advisor.pk,
        "task_id": CareTask.objects.create(  # a care reminder of the store manager's, open
            organization=org,
            kind="maintenance",
            key="maintenance:schemathesis",
            customer=customer,
            vehicle=vehicle,
            owner=owner,
            due_on=order.opened_at.date(),
            reason="小保养到期",
            created_at=order.opened_at,
        ).pk,
        "complaint_id": complaint_open(customer=customer, summary="保养后异响", by=owner).pk,
        "message_id": message_send(customer=customer, purpose="service", body="{name}您好", by=advisor).pk,
        "segment_id": segment_create(organization=org, name="VIP", filters={"tags": ["VIP"]}, by=owner).pk,
    }


# Read through the WSGI application at collection time (the document needs no database).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.seed = 1


@pytest.mark.schemathesis
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_answers_without_server_error_and_within_its_schema(
    case: Any, seeded: dict[str, int], owner: User, connection_kept_open: None
) -> None:
    for name, value in (case.path_parameters or {}).items():
        # Two generated ids in three become the seeded object's, the third stays as generated.
        if name in seeded and isinstance(value, int) and value % 3:
            case.path_parameters[name] = seeded[name]
    _, token = token_create(user=owner, name="schemathesis")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
