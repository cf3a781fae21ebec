"""No route lets one organization see or touch another's data.

The walker enumerates every URL pattern from the root resolver, the JSON
API's included, so a route added later is walked without anyone writing a
test for it. Every path parameter is filled with the id of an object of
organization A; a parameter the walker does not know fails the test, so
whoever adds a route with a new kind of id teaches the walker what it
stands for (``PARAM_OBJECTS``). Each route is then requested by the store
manager of organization B, signed in (session) and with a bearer token.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from huitou.analytics.grades import grade_override_set
from huitou.analytics.rfm import scores_refresh
from huitou.analytics.segments import segment_create
from huitou.api.models import ApiToken
from huitou.api.services import token_create
from huitou.audit.models import ChangeEntry
from huitou.care.models import STEP_ORDER, CallbackQuestion, CareTask
from huitou.care.services.complaints import (
    complaint_close,
    complaint_open,
    complaint_step_record,
    complaints_escalate,
)
from huitou.care.services.questionnaire import questionnaire_seed
from huitou.customers.models import (
    ConsentRecord,
    Customer,
    Household,
    MileageReading,
    Source,
    Tag,
    Vehicle,
    VehicleOwnership,
)
from huitou.customers.services import (
    consent_set,
    customer_delete,
    household_link,
    mileage_record,
    vehicle_delete,
)
from huitou.exports.models import ExportJob
from huitou.imports.models import ImportJob
from huitou.lifecycle.models import FollowUpPlan
from huitou.loyalty.services.cards import card_product_save
from huitou.loyalty.services.coupons import coupon_rule_save, coupon_template_save
from huitou.loyalty.services.referrals import referral_policy_save
from huitou.loyalty.services.tiers import tier_save
from huitou.messaging.models import BulkSend
from huitou.messaging.services.send import message_send
from huitou.messaging.services.templates import message_template_save
from huitou.service.models import Category, PaymentMethod
from huitou.service.services.appointments import appointment_book, opening_hours_set
from huitou.service.services.catalog import part_save, service_item_save, shop_price_set
from huitou.service.services.orders import (
    order_add_line,
    order_complete,
    order_open,
    order_pay,
    recommendation_add,
)
from huitou.tenancy.middleware import SHOP_SESSION_KEY
from huitou.tenancy.models import Organization, Shop, TenantModel, User

API_PREFIX = "/api/v1/"

# What each path parameter stands for: the keys of ``World.ids`` whose ids fill it.
PARAM_OBJECTS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "relative", "deleted_customer"),
    "other_id": ("relative",),
    "vehicle_id": ("vehicle", "deleted_vehicle"),
    "reading_id": ("reading",),
    "user_id": ("owner", "advisor", "service", "tech"),
    "staff_id": ("owner", "advisor", "service", "tech"),
    "shop_id": ("shop",),
    "tag_id": ("tag",),
    "source_id": ("source",),
    "household_id": ("household",),
    "consent_id": ("consent",),
    "ownership_id": ("ownership",),
    "entry_id": ("change",),
    "change_id": ("change",),
    "token_id": ("token",),
    "order_id": ("order", "paid_order"),
    "line_id": ("line",),
    "recommendation_id": ("recommendation",),
    "appointment_id": ("appointment",),
    "service_id": ("service_item",),  # a catalog service item ("service" is the customer-service staff member)
    "part_id": ("part",),
    "item_id": ("service_item", "part"),
    "plan_id": ("plan",),
    "import_id": ("import",),
    "export_id": ("export",),
    "policy_id": ("referral_policy",),
    "product_id": ("card_product",),
    "tier_id": ("tier",),
    "template_id": ("coupon_template",),
    "message_id": ("message",),
    "message_template_id": ("message_template",),
    "bulk_id": ("bulk_send",),
    "rule_id": ("coupon_rule",),
    "task_id": ("care_task",),
    "complaint_id": ("complaint", "closed_complaint"),
    "question_id": ("callback_question",),
    "segment_id": ("segment",),
}
# Names that do not say what they point at: every object of A is tried.
GENERIC_PARAMS = frozenset({"pk", "id", "object_id"})

# What B may get for a route that names an object of A. 405: the method does
# not exist there; 422: the payload cannot be parsed. Never 2xx, never 500.
REFUSED = {403, 404, 405, 422}


@dataclass(frozen=True)
class Route:
    template: str  # "customers/<int:customer_id>/", from the root
    converters: dict[str, Any]
    name: str

    @property
    def params(self) -> list[str]:
        return list(self.converters)

    @property
    def is_api(self) -> bool:
        return ("/" + self.template).startswith(API_PREFIX)

    def url(self, values: dict[str, int]) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group("name")
            return str(self.converters[name].to_url(values[name]))

        return "/" + re.sub(r"<(?:[^>:]+:)?(?P<name>[^>]+)>", fill, self.template)


def _walk(resolver: URLResolver, prefix: str, converters: dict[str, Any]) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            route, found = str(pattern), dict(pattern.converters)
        elif isinstance(pattern, RegexPattern):
            regex = pattern.regex
            if regex.groups:
                pytest.fail(f"The isolation walker cannot fill the regex route {prefix}{pattern}: use path().")
            route, found = pattern._regex.lstrip("^").rstrip("$").replace("\\", ""), {}
        else:  # pragma: no cover - a pattern class Django may add
            pytest.fail(f"The isolation walker does not know the URL pattern type {type(pattern)!r}.")
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + route, {**converters, **found})
        elif isinstance(entry, URLPattern):
            yield Route(prefix + route, {**converters, **found}, entry.name or "")


def all_routes() -> list[Route]:
    """Every route of the project, once per distinct path (ninja repeats a path per method)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver(), "", {}):
        seen.setdefault(route.template, route)
    return list(seen.values())


@dataclass
class World:
    """Organization A's objects (one of every kind), and organization B with its own."""

    org_a: Organization
    ids: dict[str, int]
    markers: list[str]
    org_b: Organization
    b_owner: User
    b_token: str
    b_own: dict[str, int]

    @property
    def b_ids(self) -> set[int]:
        """Every id of a row of B, whatever its table."""
        ids = {
            pk for model in _tenant_models() for pk in model.objects.for_org(self.org_b).values_list("pk", flat=True)
        }
        ids |= set(User.objects.for_org(self.org_b).values_list("pk", flat=True))
        ids |= set(ApiToken.objects.filter(user__organization=self.org_b).values_list("pk", flat=True))
        return ids

    def fillings(self, route: Route) -> Iterator[dict[str, int]]:
        """Every combination of A's ids for the route's parameters."""
        choices = []
        for param in route.params:
            if param in PARAM_OBJECTS:
                choices.append([self.ids[k] for k in PARAM_OBJECTS[param]])
            elif param in GENERIC_PARAMS:
                # An id of A that is also some id of B could be B's own object: leave it out.
                b_ids = self.b_ids
                choices.append(sorted({v for v in self.ids.values() if v not in b_ids}))
            else:
                pytest.fail(
                    f"The isolation walker does not know what the parameter {param!r} of /{route.template} "
                    f"({route.name}) stands for. Teach it: add {param!r} to PARAM_OBJECTS in {__file__}."
                )
        for combo in product(*choices):
            yield dict(zip(route.params, combo, strict=True))

    def own_filling(self, route: Route) -> dict[str, int] | None:
        """B's own ids for the route's parameters (None when a parameter does not say what it is)."""
        if any(p not in PARAM_OBJECTS for p in route.params):
            return None
        return {p: self.b_own[PARAM_OBJECTS[p][0]] for p in route.params}

    def leaks(self, body: bytes, echoed: str = "") -> list[str]:
        """A's markers found in a response, except those the request itself sent (a search box echoes them)."""
        text = body.decode("utf-8", errors="replace")
        return [m for m in self.markers if m not in echoed and (m in text or json.dumps(m)[1:-1] in text)]


@dataclass(frozen=True)
class Seed:
    """The distinctive facts of one organization's objects."""

    names: tuple[str, str, str]  # the customer, a relative, a deleted customer
    phones: tuple[str, str, str]
    plates: tuple[str, str]  # the vehicle, a deleted vehicle
    vin: str
    wechat: str
    email: str
    tag: str
    occupation: str
    service_item: str
    part: str
    complaint: str  # the customer's description on the order
    recommendation: str
    booking_note: str


A_SEED = Seed(
    names=("欧阳娜娜", "欧阳大伟", "上官婉儿"),
    phones=("13812345678", "13987654321", "13711112222"),
    plates=("粤B86420", "粤B97531"),
    vin="LSVAM4187C2184847",
    wechat="ouyang_nana_a",
    email="nana@shunda.example",
    tag="甲店贵宾",
    occupation="甲店的老师",
    service_item="甲店镀晶套餐",
    part="甲店专供机油",
    complaint="甲店客户说刹车异响",
    recommendation="甲店建议更换刹车片",
    booking_note="甲店预约要开发票",
)
B_SEED = Seed(
    names=("隔壁客户", "隔壁家属", "隔壁旧客"),
    phones=("13600001111", "13600002222", "13600003333"),
    plates=("京A12345", "京A54321"),
    vin="1M8GDM9AXKP042788",
    wechat="gebi_b",
    email="b@gebi.example",
    tag="乙店常客",
    occupation="乙店的司机",
    service_item="乙店洗车",
    part="乙店雨刮",
    complaint="乙店客户说空调不凉",
    recommendation="乙店建议换轮胎",
    booking_note="乙店预约下午到",
)

# A day on which every seeded appointment is still ahead.
BOOKING_DAY = timezone.localdate() + dt.timedelta(days=7)


def _populate(
    organization: Organization,
    seed: Seed,
    staff: dict[str, User],
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> dict[str, int]:
    """One object of every kind for ``organization``; their ids by kind (the keys PARAM_OBJECTS uses)."""
    advisor, owner, tech = staff["advisor"], staff["owner"], staff["tech"]
    customer = make_customer(
        organization=organization,
        by=advisor,
        name=seed.names[0],
        phone=seed.phones[0],
        wechat=seed.wechat,
        email=seed.email,
        tags=[seed.tag],
        source="walk_in",
        occupation=seed.occupation,
        birth_month=6,
        birth_day=18,
    )
    relative = make_customer(organization=organization, by=advisor, name=seed.names[1], phone=seed.phones[1])
    household = household_link(customer=customer, other=relative, by=advisor)
    consent = consent_set(
        customer=customer, channel="sms", granted=True, method="paper_form", purpose="保养提醒", by=advisor
    )
    vehicle = make_vehicle(customer, by=advisor, plate=seed.plates[0], vin=seed.vin, mileage_km=42000)
    reading = mileage_record(vehicle=vehicle, km=43000, by=tech)
    gone_vehicle = make_vehicle(customer, by=advisor, plate=seed.plates[1])
    vehicle_delete(vehicle=gone_vehicle, by=advisor)
    deleted = make_customer(organization=organization, by=advisor, name=seed.names[2], phone=seed.phones[2])
    customer_delete(customer=deleted, by=owner)
    token, _ = token_create(user=advisor)
    export = ExportJob.objects.create(
        organization=organization, source="customers", format="csv", requested_by=owner, state="ready", rows=1
    )
    service_ids = _populate_service(organization, seed, staff, vehicle)
    # Grades: every customer's RFM, grade and churn risk, and a grade set by hand with a reason.
    scores_refresh(organization=organization)
    grade_override_set(customer=relative, grade="A", reason=f"{seed.names[0]}介绍", by=owner)
    # A saved segment named after the organization's tag, holding its customer.
    segment = segment_create(organization=organization, name=f"{seed.tag}分组", filters={"tags": [seed.tag]}, by=owner)
    return {
        "customer": customer.pk,
        "relative": relative.pk,
        "deleted_customer": deleted.pk,
        "vehicle": vehicle.pk,
        "deleted_vehicle": gone_vehicle.pk,
        "reading": reading.pk,
        **{role: user.pk for role, user in staff.items()},
        "shop": Shop.objects.for_org(organization).order_by("pk").first().pk,  # type: ignore[union-attr]
        "tag": Tag.objects.for_org(organization).get(name=seed.tag).pk,
        "source": Source.objects.for_org(organization).get(code="walk_in").pk,
        "household": household.pk,
        "consent": consent.pk,
        "ownership": VehicleOwnership.objects.get(vehicle=vehicle).pk,
        "change": ChangeEntry.objects.for_org(organization).filter(customer_id=customer.pk).first().pk,  # type: ignore[union-attr]
        "token": token.pk,
        "export": export.pk,
        "segment": segment.pk,
        "referral_policy": referral_policy_save(
            organization=organization,
            data={"code": "first-bill", "name": "首单奖励", "kind": "first_bill_percent", "percent": "3"},
        ).pk,
        **_populate_coupons(organization, staff),
        **_populate_complaints(organization, customer, staff),
        "care_task": CareTask.objects.for_org(organization).get(order_id=service_ids["paid_order"]).pk,  # its callback
        **_populate_messages(organization, customer, staff),
        "tier": tier_save(
            organization=organization,
            data={"code": "gold", "name": "金卡", "entry_rule": "spend", "entry_threshold": "8000"},
        ).pk,
        "plan": FollowUpPlan.objects.for_org(organization).order_by("pk").first().pk,  # type: ignore[union-attr]
        "import": ImportJob.objects.create(
            organization=organization,
            kind="customers",
            filename=f"{seed.names[0]}.xlsx",
            stored_as="none.xlsx",
            columns=["姓名"],
            created_by=owner,
            created_at=timezone.now(),
        ).pk,
        **service_ids,
    }


def _populate_messages(organization: Organization, customer: Customer, staff: dict[str, User]) -> dict[str, int]:
    """A message template, a message to the customer (its text names them) and a bulk send."""
    template = message_template_save(
        organization=organization,
        data={"code": "hello", "name": "问候", "purpose": "service", "body": "{name}您好，{plate}保养到期了"},
    )
    message = message_send(customer=customer, template=template, by=staff["advisor"])
    bulk = BulkSend.objects.create(
        organization=organization, template=template, channel="manual", purpose="service", created_at=timezone.now()
    )
    return {"message_template": template.pk, "message": message.pk, "bulk_send": bulk.pk}


def _populate_complaints(organization: Organization, customer: Customer, staff: dict[str, User]) -> dict[str, int]:
    """An open complaint (late, escalated to the store manager) and a closed one; the callback questionnaire."""
    complaint = complaint_open(
        customer=customer, summary="态度投诉", by=staff["advisor"], now=timezone.now() - dt.timedelta(hours=5)
    )
    complaints_escalate(organization=organization)
    closed = complaint_open(customer=customer, summary="结案投诉", by=staff["advisor"])
    for step in STEP_ORDER:
        complaint_step_record(complaint=closed, step=step, note="记录", by=staff["advisor"])
    complaint_close(complaint=closed, by=staff["advisor"])
    questionnaire_seed(organization=organization)
    question = CallbackQuestion.objects.for_org(organization).order_by("pk").first()
    assert question is not None
    return {"complaint": complaint.pk, "closed_complaint": closed.pk, "callback_question": question.pk}


def _populate_coupons(organization: Organization, staff: dict[str, User]) -> dict[str, int]:
    """A coupon template with an issuing rule."""
    template = coupon_template_save(
        organization=organization, data={"code": "labour-20", "name": "20元工时券", "kind": "amount", "value": "20"}
    )
    rule = coupon_rule_save(organization=organization, data={"template": template, "trigger": "order_paid"})
    return {"coupon_template": template.pk, "coupon_rule": rule.pk}


def _populate_service(
    organization: Organization, seed: Seed, staff: dict[str, User], vehicle: Vehicle
) -> dict[str, int]:
    """The catalog, an open and a paid order, a recommendation and an appointment."""
    advisor, tech = staff["advisor"], staff["tech"]
    shop = Shop.objects.for_org(organization).order_by("pk").first()
    assert shop is not None
    item = service_item_save(
        organization=organization,
        data={"category": Category.DETAILING, "code": "MR01", "name": seed.service_item, "labour_price": "1280"},
    )
    part = part_save(
        organization=organization, data={"code": "JY01", "name": seed.part, "sale_price": "398", "cost": "210"}
    )
    shop_price_set(shop=shop, item=item, price="1180")
    order = order_open(
        organization=organization, shop=shop, vehicle=vehicle, by=advisor, mileage_km=44000, description=seed.complaint
    )
    line = order_add_line(order=order, by=tech, service=item, technician=tech)
    recommendation = recommendation_add(order=order, by=tech, description=seed.recommendation, estimate="380")
    paid = order_open(organization=organization, shop=shop, vehicle=vehicle, by=advisor, mileage_km=45000)
    order_add_line(order=paid, by=advisor, part=part, quantity="2")
    order_complete(order=paid, by=advisor)
    order_pay(order=paid, by=advisor, method=PaymentMethod.WECHAT, amount="796.00")
    opening_hours_set(shop=shop, weekday=BOOKING_DAY.weekday(), opens=dt.time(8), closes=dt.time(18))
    appointment = appointment_book(
        shop=shop,
        customer=vehicle.customer,
        day=BOOKING_DAY,
        slot=dt.time(9),
        by=advisor,
        vehicle=vehicle,
        service=item,
        note=seed.booking_note,
    )
    product = card_product_save(
        organization=organization,
        data={"code": "wash-10", "name": f"{seed.service_item}次卡", "price": "299", "uses": 10, "services": [item.pk]},
    )
    return {
        "card_product": product.pk,
        "service_item": item.pk,
        "part": part.pk,
        "order": order.pk,
        "paid_order": paid.pk,
        "line": line.pk,
        "recommendation": recommendation.pk,
        "appointment": appointment.pk,
    }


@pytest.fixture
def world(
    org: Organization,
    owner: User,
    advisor: User,
    service: User,
    tech: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> World:
    a_staff = {"owner": owner, "advisor": advisor, "service": service, "tech": tech}
    ids = _populate(org, A_SEED, a_staff, make_customer, make_vehicle)
    b_own = _populate(other_org, B_SEED, dict.fromkeys(a_staff, outsider), make_customer, make_vehicle)
    _, b_token = token_create(user=outsider)
    markers = [
        *A_SEED.names,
        *A_SEED.phones,
        "+86" + A_SEED.phones[0],
        *A_SEED.plates,
        A_SEED.vin,
        A_SEED.wechat,
        A_SEED.email,
        A_SEED.tag,
        A_SEED.occupation,
        A_SEED.service_item,
        A_SEED.part,
        A_SEED.complaint,
        A_SEED.recommendation,
        A_SEED.booking_note,
        org.name,
        *(u.display_name for u in a_staff.values()),
    ]
    return World(org, ids, markers, other_org, outsider, b_token, b_own)


def _tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _snapshot(organization: Organization) -> dict[str, list[dict[str, Any]]]:
    """Every row of the organization, for proving that nothing was changed."""
    rows = {m._meta.label: list(m.objects.for_org(organization).order_by("pk").values()) for m in _tenant_models()}
    rows["staff"] = list(
        User.objects.for_org(organization).order_by("pk").values("pk", "role", "is_active", "password")
    )
    rows["tokens"] = list(ApiToken.objects.filter(user__organization=organization).values("pk", "revoked_at"))
    return rows


def _b_session(world: World) -> Client:
    client = Client()
    client.force_login(world.b_owner)
    return client


def _b_bearer(world: World) -> Client:
    return Client(headers={"Authorization": f"Bearer {world.b_token}"})


def _requests(route: Route, url: str) -> list[tuple[str, Callable[[Client], Any]]]:
    if route.is_api:
        return [("GET", lambda c: c.get(url))] + [
            (method, lambda c, m=method: c.generic(m, url, "{}", content_type="application/json"))
            for method in ("POST", "PUT", "PATCH", "DELETE")
        ]
    return [("GET", lambda c: c.get(url)), ("POST", lambda c: c.post(url, {}))]


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


def test_routes_with_ids_of_another_organization_answer_404_or_403(world: World) -> None:
    before = _snapshot(world.org_a)
    failures: list[str] = []
    walked = 0
    for route in all_routes():
        if not route.params:
            continue
        for values in world.fillings(route):
            url = route.url(values)
            for as_whom, client in (("session", _b_session(world)), ("bearer", _b_bearer(world))):
                for method, send in _requests(route, url):
                    response = send(client)
                    walked += 1
                    status = response.status_code
                    anonymous_web = as_whom == "bearer" and not route.is_api
                    ok = status in REFUSED or (anonymous_web and _is_login_redirect(response))
                    if not ok:
                        failures.append(f"{method} {url} as B ({as_whom}): {status}")
                    if leaked := world.leaks(response.content):
                        failures.append(f"{method} {url} as B ({as_whom}) shows A's {leaked}")

    assert not failures, "\n".join(failures)
    assert walked > 100, "the walker found too few routes with ids: is the resolver walk broken?"
    assert _snapshot(world.org_a) == before, "a request of organization B changed organization A's data"


def test_routes_without_ids_never_show_another_organizations_data(world: World) -> None:
    before = _snapshot(world.org_a)
    # The search box's keys for A's customer, and the list filters with A's ids.
    searches = [
        {},
        {"q": "欧阳娜娜"},
        {"q": "oyn"},
        {"q": "13812345678"},
        {"q": "5678"},
        {"q": "粤B86420"},
        {"q": "B864"},
        {"q": "2184847"},
        {"q": A_SEED.service_item},
        {"q": A_SEED.part},
        {"tag": "甲店贵宾", "owner": world.ids["advisor"], "shop": world.ids["shop"], "stage": "prospect"},
        {"shop": world.ids["shop"], "customer": world.ids["customer"], "day": BOOKING_DAY.isoformat()},
        {"customer_id": world.ids["customer"], "owner": "all"},  # the care work list API
        {"customer_id": world.ids["customer"], "state": "late"},  # the complaint board API
        {"customer": world.ids["customer"]},  # a complaint opened from a customer's file
        {"segment": world.ids["segment"]},  # a segment's export and bulk send
        {"customer_id": world.ids["customer"], "state": "queued"},  # the outbox API
        {"shop": world.ids["shop"], "date": timezone.localdate().isoformat(), "include_inactive": "true"},
        {"month": f"{timezone.localdate().year}-06"},  # the birthday calendar
        # The dashboard at A's shop, and the customers and orders behind its figures (lists and API).
        *(
            {
                "figure": figure,
                "from": (timezone.localdate() - dt.timedelta(days=1000)).isoformat(),
                "to": timezone.localdate().isoformat(),
                "figure_shop": world.ids["shop"],
                "shop": world.ids["shop"],
            }
            for figure in ("active", "paid", "new", "revenue")
        ),  # fmt: skip
    ]
    failures: list[str] = []
    walked = 0
    for route in all_routes():
        if route.params:
            continue
        url = route.url({})
        for as_whom, client in (("session", _b_session(world)), ("bearer", _b_bearer(world))):
            # A bearer token means nothing to the pages: there it is an anonymous visitor, asked once.
            anonymous_web = as_whom == "bearer" and not route.is_api
            queries = searches[:1] if anonymous_web else searches
            calls = [(f"GET {query}", lambda c, u=url, q=query: c.get(u, q)) for query in queries]
            calls += [(m, send) for m, send in _requests(route, url) if m != "GET"]
            for what, send in calls:
                response = send(client)
                walked += 1
                if response.status_code >= 500:
                    failures.append(f"{what} {url} as B ({as_whom}): {response.status_code}")
                if leaked := world.leaks(response.content, echoed=what):
                    failures.append(f"{what} {url} as B ({as_whom}) shows A's {leaked}")

    assert not failures, "\n".join(failures)
    assert walked > 50
    assert _snapshot(world.org_a) == before, "a request of organization B changed organization A's data"


def test_routes_of_bs_own_objects_never_show_as_data(world: World) -> None:
    """B's own files, searched for A's customer (e.g. a household picker), still show nothing of A."""
    searches = [{"q": q} for q in ("欧阳娜娜", "oyn", "13812345678", "5678", "粤B86420", "B864", "2184847")]
    failures: list[str] = []
    walked = 0
    for route in all_routes():
        values = world.own_filling(route) if route.params else None
        if values is None:
            continue
        url = route.url(values)
        client = _b_bearer(world) if route.is_api else _b_session(world)
        for query in [{}, *searches]:
            response = client.get(url, query)
            walked += 1
            if response.status_code >= 500:
                failures.append(f"GET {url} {query} as B: {response.status_code}")
            if leaked := world.leaks(response.content, echoed=str(query)):
                failures.append(f"GET {url} {query} as B shows A's {leaked}")

    assert not failures, "\n".join(failures)
    assert walked > 50


def test_the_walker_sees_the_api_and_the_pages(db: object) -> None:
    templates = {r.template for r in all_routes()}
    assert {"api/v1/customers/<customer_id>", "api/v1/vehicles/<vehicle_id>/mileage", "staff/<int:user_id>/"} <= (
        templates
    )
    assert "healthz" in templates and "api/v1/openapi.json" in templates


def test_the_walker_refuses_a_parameter_it_was_not_taught(world: World) -> None:
    route = Route("widgets/<int:widget_id>/", {"widget_id": object()}, "widget")
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        list(world.fillings(route))


def test_ids_in_bodies_and_filters_are_scoped_too(world: World) -> None:
    """Ids of A sent in a payload or a query by B are as unknown as in the path."""
    api = _b_bearer(world)
    b_customer = Customer.objects.for_org(world.org_b).get(pk=world.b_own["customer"])
    b_vehicle = Vehicle.objects.for_org(world.org_b).get(pk=world.b_own["vehicle"])
    b_household = b_customer.household_id
    before = _snapshot(world.org_a)

    def post(url: str, data: dict[str, Any], method: str = "POST") -> Any:
        return api.generic(method, url, json.dumps(data), content_type="application/json")

    household = post(f"/api/v1/customers/{b_customer.pk}/household", {"other_id": world.ids["customer"]})
    transfer = post(f"/api/v1/vehicles/{b_vehicle.pk}/transfer", {"customer_id": world.ids["customer"]})
    created = post("/api/v1/customers", {"name": "新客户", "phone": "13500001234", "owner": world.ids["advisor"]})
    patched = post(f"/api/v1/customers/{b_customer.pk}", {"owner": world.ids["advisor"]}, method="PATCH")
    by_owner = api.get("/api/v1/customers", {"owner": world.ids["advisor"]})

    assert (household.status_code, transfer.status_code) == (404, 404)
    assert created.status_code == patched.status_code == 422
    assert set(created.json()["errors"]) == set(patched.json()["errors"]) == {"owner"}
    assert by_owner.json()["count"] == 0
    b_customer.refresh_from_db()
    assert (b_customer.household_id, b_customer.owner_id) == (b_household, world.b_owner.pk)
    assert Vehicle.objects.for_org(world.org_b).get(pk=b_vehicle.pk).customer_id == b_customer.pk
    assert _snapshot(world.org_a) == before


def test_ids_of_another_organization_in_service_bodies_and_filters_are_refused(world: World) -> None:
    """Orders, lines, recommendations and bookings of B never take A's vehicles, items, staff or shops."""
    api = _b_bearer(world)
    a, b = world.ids, world.b_own
    order, recommendation = f"/api/v1/orders/{b['order']}", b["recommendation"]
    booking = {"shop_id": b["shop"], "customer_id": b["customer"], "day": BOOKING_DAY.isoformat(), "slot": "10:00"}
    before = _snapshot(world.org_a)
    b_before = _snapshot(world.org_b)

    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/api/v1/orders", {"vehicle_id": a["vehicle"], "mileage": 99000}, "vehicle_id"),
        ("/api/v1/messages", {"customer_id": a["customer"], "purpose": "service", "body": "您好"}, "customer_id"),
        ("/api/v1/orders", {"vehicle_id": b["vehicle"], "mileage": 99000, "shop_id": a["shop"]}, "shop_id"),
        (f"{order}/lines", {"service_id": a["service_item"]}, "service_id"),
        (f"{order}/lines", {"part_id": a["part"]}, "part_id"),
        (f"{order}/lines", {"service_id": b["service_item"], "technician_id": a["tech"]}, "technician_id"),
        (f"{order}/recommendations", {"description": "x", "service_id": a["service_item"]}, "service_id"),
        (f"{order}/recommendations/{recommendation}/accept", {"service_id": a["service_item"]}, "service_id"),
        ("/api/v1/appointments", {**booking, "shop_id": a["shop"]}, "shop_id"),
        ("/api/v1/appointments", {**booking, "customer_id": a["customer"]}, "customer_id"),
        ("/api/v1/appointments", {**booking, "vehicle_id": a["vehicle"]}, "vehicle_id"),
        ("/api/v1/appointments", {**booking, "service_id": a["service_item"]}, "service_id"),
        (
            f"/api/v1/appointments/{b['appointment']}/convert",
            {"mileage": 99000, "vehicle_id": a["vehicle"]},
            "vehicle_id",
        ),
    ]
    failures = []
    for url, payload, field in cases:
        response = api.post(url, json.dumps(payload), content_type="application/json")
        errors = response.json().get("errors", {}) if response.status_code == 422 else None
        if errors is None or set(errors) != {field}:
            failures.append(f"POST {url} {payload}: {response.status_code} {response.content[:200]!r}")
        if leaked := world.leaks(response.content):
            failures.append(f"POST {url} shows A's {leaked}")
    assert not failures, "\n".join(failures)

    by_customer = api.get("/api/v1/orders", {"customer": a["customer"]}).json()
    by_shop = api.get("/api/v1/orders", {"shop": a["shop"]}).json()
    bookings = api.get("/api/v1/appointments", {"shop": a["shop"], "day": BOOKING_DAY.isoformat()}).json()
    slots = api.get("/api/v1/appointments/slots", {"shop": a["shop"], "day": BOOKING_DAY.isoformat()})
    prices = api.get("/api/v1/catalog/services", {"shop": a["shop"]}).json()
    assert by_customer["count"] == by_shop["count"] == bookings["count"] == 0
    assert (slots.status_code, set(slots.json()["errors"])) == (422, {"shop"})
    # B's own item, without A's shop's price (its package card's sale item aside)
    assert [i["shop_price"] for i in prices["items"] if not i["code"].startswith("CARD-")] == [None]
    assert _snapshot(world.org_a) == before
    assert _snapshot(world.org_b) == b_before, "a refused request of B changed B's data"


def test_organization_b_works_on_its_own_orders(world: World) -> None:
    """The refusals above are not a broken API: B reads, bills and books its own."""
    api = _b_bearer(world)
    b = world.b_own

    order = api.get(f"/api/v1/orders/{b['order']}").json()
    paid = api.get(f"/api/v1/orders/{b['paid_order']}").json()
    booking = api.get(f"/api/v1/appointments/{b['appointment']}").json()
    parts = api.get("/api/v1/catalog/parts").json()

    assert (order["description"], order["lines"][0]["name"]) == (B_SEED.complaint, B_SEED.service_item)
    assert order["recommendations"][0]["description"] == B_SEED.recommendation
    assert (paid["state"], paid["total"], paid["amount_due"]) == ("paid", "796.00", "0.00")
    assert booking["note"] == B_SEED.booking_note
    assert [(p["name"], p["cost"]) for p in parts["items"]] == [(B_SEED.part, "210.00")]
    assert api.get("/api/v1/orders").json()["count"] == 2


def test_the_warranty_of_another_organization_s_line_is_not_found(world: World) -> None:
    """A valid promise for A's line, through A's order or B's own, by the API and the page: 404."""
    before = _snapshot(world.org_a)
    line = world.ids["line"]
    body = json.dumps({"warranty_months": 12, "warranty_km": None, "reason": "延期服务"})
    for order in (world.ids["order"], world.b_own["order"]):
        api = _b_bearer(world).put(f"/api/v1/orders/{order}/lines/{line}/warranty", body, "application/json")
        page = _b_session(world).post(f"/service/orders/{order}/lines/{line}/warranty/", {"warranty_months": "12"})
        assert (api.status_code, page.status_code) == (404, 404)
    assert _snapshot(world.org_a) == before


def test_a_shop_of_another_organization_cannot_be_switched_to(world: World) -> None:
    client = _b_session(world)

    client.post("/shop/switch/", {"shop": world.ids["shop"]})

    assert client.session.get(SHOP_SESSION_KEY) != world.ids["shop"]


def test_organization_b_sees_its_own_customers(world: World) -> None:
    """The walker's refusals are not just a broken API: B gets its own data."""
    doc = _b_bearer(world).get("/api/v1/customers").json()
    assert [c["name"] for c in doc["items"]] == ["隔壁家属", "隔壁客户"]
    assert _b_session(world).get("/api/v1/customers").json()["count"] == 2
    b_customer = world.b_own["customer"]
    assert _b_bearer(world).get(f"/api/v1/customers/{b_customer}").json()["name"] == "隔壁客户"
    assert _b_session(world).get(f"/customers/{b_customer}/").status_code == 200


# --- schema: everything a tenant table is looked up or kept unique by starts with organization


def _first_field(model: type[models.Model], entry: models.Index | models.BaseConstraint) -> str | None:
    fields = list(getattr(entry, "fields", ()) or ())
    if not fields:
        return None
    name = fields[0].lstrip("-")
    return model._meta.get_field(name).name


def test_every_index_and_unique_constraint_of_a_tenant_table_starts_with_organization() -> None:
    tenant_models = _tenant_models()
    assert {Customer, Vehicle, MileageReading, Shop, Tag, Household, ConsentRecord, ChangeEntry} <= set(tenant_models)
    problems: list[str] = []
    for model in tenant_models:
        meta = model._meta
        for index in meta.indexes:
            if _first_field(model, index) != "organization":
                problems.append(f"{meta.label} index {index.name} starts with {index.fields[:1]}")
        for constraint in meta.constraints:
            unique = isinstance(constraint, models.UniqueConstraint)
            if unique and _first_field(model, constraint) != "organization":
                problems.append(f"{meta.label} unique constraint {constraint.name} does not start with organization")
        for fields in meta.unique_together:
            if fields[0] != "organization":
                problems.append(f"{meta.label} unique_together {fields} does not start with organization")
        for field in meta.local_fields:
            if field.unique and not field.primary_key:
                problems.append(f"{meta.label}.{field.name} is unique across organizations")
    assert not problems, "\n".join(problems)
