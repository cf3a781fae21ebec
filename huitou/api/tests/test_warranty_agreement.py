"""The page and the API agree on the warranty writes: a line's promise when it is added and afterwards.

The pattern of ``test_page_api_agreement.py`` (its ``world``, ``Write`` and ``stored``; the lines'
promises and the order history's warranty entries are added here). Each row arranges a starting
state once; the page and then the API run from it, each in a savepoint rolled back afterwards,
and what they leave behind is compared, or the refusal and its message. Terms out of range are
refused by the API's schema (its own message, on the field) and by the service on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.api.tests.conftest import ApiClient
from huitou.api.tests.test_page_api_agreement import Write, _api_messages, _run, stored, world  # noqa: F401
from huitou.audit.models import ChangeEntry
from huitou.service import errors
from huitou.service.models import OrderLine, ServiceOrder
from huitou.service.services.catalog import service_item_save
from huitou.service.services.orders import order_add_discount, order_add_line, order_complete, order_pay, order_void
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

WARRANTY_KEYS = ("warranty_of", "warranty_months", "warranty_km")


def warranty_stored(org: Organization) -> dict[str, list[tuple[Any, ...]]]:
    """``stored`` with each line's promise and the order history's warranty changes."""
    rows = stored(org)
    rows["promises"] = sorted(
        (li.order.number, li.name, li.warranty_months, li.warranty_km)
        for li in OrderLine.objects.for_org(org).select_related("order")
    )
    numbers = dict(ServiceOrder.objects.for_org(org).values_list("pk", "number"))
    rows["warranty_history"] = sorted(
        (
            (numbers[e.subject_id], tuple((k, tuple(e.changes[k])) for k in WARRANTY_KEYS if k in e.changes), e.note)
            for e in ChangeEntry.objects.for_org(org).filter(subject_type="serviceorder")
            if any(k in e.changes for k in WARRANTY_KEYS)
        ),
        key=repr,
    )
    return rows


def _order(w: SimpleNamespace) -> None:
    service_item_save(organization=w.org, data={"warranty_months": 3, "warranty_km": 3000}, item=w.brakes)
    w.order = w.make_order(w.car, shop=w.shop, mileage_km=42_500)


def _with_line(w: SimpleNamespace) -> None:
    _order(w)
    w.line = order_add_line(order=w.order, by=w.advisor, service=w.brakes)


def _paid(w: SimpleNamespace) -> None:
    _with_line(w)
    order_complete(order=w.order, by=w.advisor)
    order_pay(order=w.order, by=w.advisor, method="cash", amount=w.order.total)


def _void(w: SimpleNamespace) -> None:
    _with_line(w)
    order_void(order=w.order, by=w.advisor, reason="客户取消")


def _discounted(w: SimpleNamespace) -> None:
    _with_line(w)
    w.line = order_add_discount(order=w.order, by=w.advisor, name="会员折扣", amount=10, applies_to=w.line)


def _add(name: str, terms: dict[str, Any], user: str = "advisor", **kw: Any) -> Write:
    """A line of the brake pads (usually 3 months or 3,000 km); ``terms`` as the API sends them."""
    return Write(
        name,
        arrange=_order,
        user=user,
        page=lambda w: (
            reverse("service:order_line_add", args=[w.order.pk]),
            {"item": f"service:{w.brakes.pk}", "quantity": "1", **{k: v or "" for k, v in terms.items()}},
        ),
        api=lambda w: ("POST", f"/api/v1/orders/{w.order.pk}/lines", {"service_id": w.brakes.pk, **terms}),
        **kw,
    )


def _change(name: str, body: dict[str, Any], user: str = "advisor", **kw: Any) -> Write:
    """The line's promise replaced by ``body`` (both legs, null for none, and a reason if any)."""
    return Write(
        name,
        arrange=kw.pop("arrange", _with_line),
        user=user,
        page=lambda w: (
            reverse("service:order_line_warranty", args=[w.order.pk, w.line.pk]),
            {k: "" if v is None else v for k, v in body.items()},
        ),
        api=lambda w: ("PUT", f"/api/v1/orders/{w.order.pk}/lines/{w.line.pk}/warranty", body),
        **kw,
    )


WRITES: list[Write] = [
    _add("a line promises its item's warranty", {}),
    _add("a line promises other terms", {"warranty_months": 6, "warranty_km": 10_000}),
    _add("a technician's line promises the item's warranty", {}, user="tech"),
    _add(
        "refuse other terms from a technician",
        {"warranty_months": 12},
        user="tech",
        refused=errors.WARRANTY_NOT_YOURS,
        api_status=403,
    ),
    _add("refuse months out of range", {"warranty_months": 121}, params={"schema": True}),
    _change("change a line's promise", {"warranty_months": 12, "warranty_km": None}),
    _change("take a line's promise away", {"warranty_months": None, "warranty_km": None}),
    _change("the same terms change nothing", {"warranty_months": 3, "warranty_km": 3000}, params={"same": True}),
    _change(
        "refuse a change without a reason on a paid order",
        {"warranty_months": 6, "warranty_km": 3000},
        arrange=_paid,
        refused=errors.WARRANTY_REASON_REQUIRED,
    ),
    _change(
        "change a paid order's promise with a reason",
        {"warranty_months": 6, "warranty_km": 3000, "reason": "延期服务"},
        arrange=_paid,
    ),
    _change(
        "refuse a change on a void order",
        {"warranty_months": 6, "warranty_km": None},
        arrange=_void,
        refused=errors.ORDER_VOID,
        api_status=409,
    ),
    _change(
        "refuse a warranty on a discount line",
        {"warranty_months": 6, "warranty_km": None},
        arrange=_discounted,
        refused=errors.WARRANTY_ON_DISCOUNT,
    ),
    _change(
        "refuse a change from a technician",
        {"warranty_months": 6, "warranty_km": None},
        user="tech",
        refused=errors.WARRANTY_CHANGE_NOT_YOURS,
        api_status=403,
    ),
    _change("refuse kilometres out of range", {"warranty_months": 3, "warranty_km": 0}, params={"schema": True}),
]


def _through(channel: str, write: Write, w: SimpleNamespace, client: Client) -> tuple[Any, dict[str, Any]]:
    with transaction.atomic():
        if channel == "page":
            url, data = write.page(w)
            response = _run(client, "POST", url, data, page=True)
        else:
            method, path, body = write.api(w)
            response = _run(client, method, path, body, page=False)
        after = warranty_stored(w.org)
        transaction.set_rollback(True)
    return response, after


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_the_page_and_the_api_agree_on_warranty_writes(
    write: Write,
    world: SimpleNamespace,  # noqa: F811
    client_for: Callable[[User], Client],
    api_for: Callable[[User], ApiClient],
) -> None:
    write.arrange(world)
    user = world.users[write.user]
    before = warranty_stored(world.org)

    page, by_page = _through("page", write, world, client_for(user))
    api, by_api = _through("api", write, world, api_for(user))

    assert page.status_code == 200, page.content.decode()[:500]
    if write.params.get("schema"):
        assert api.status_code == 422 and api.json()["errors"], api.content.decode()
        assert by_page == before
    elif write.refused is None:
        assert api.status_code in (200, 201), api.content.decode()
        assert (by_page == before) is bool(write.params.get("same")), "the page stored nothing"
    else:
        message = zh(write.refused)
        assert api.status_code == (write.api_status or 422), api.content.decode()
        assert message in _api_messages(api)
        assert escape(message) in page.content.decode(), f"the page does not say: {message}"
        assert by_page == before
    assert by_page == by_api
