"""The store manager's care rules: the service that sets them, the page, and what the sweep does with them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from huitou.care import errors, selectors
from huitou.care.models import CareKind, CareRule, CareTask, OwnerMode
from huitou.care.services.rule_settings import FROM_AN_ORDER, care_rule_save, script_problem
from huitou.care.services.sweep import care_sweep
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import vehicle_update
from huitou.tenancy.models import Organization, User
from huitou.testing.text import zh

pytestmark = pytest.mark.django_db

RULES = reverse("care:rules")


def rule(org: Organization, kind: str) -> CareRule:
    return CareRule.objects.for_org(org).get(kind=kind)


def refused(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in exc.value.message_dict.items()}


# --- the service -----------------------------------------------------------------------------


def test_a_kind_without_a_row_shows_its_defaults_and_saving_writes_the_row(org: Organization, owner: User) -> None:
    before = {s.kind: (s.is_active, s.lead_days, s.owner_mode) for s in selectors.rule_settings(organization=org)}
    assert before == {
        "callback": (True, 2, "advisor"),
        "maintenance": (True, 7, "customer_owner"),
        "insurance": (True, 30, "customer_owner"),
        "inspection": (True, 30, "customer_owner"),
        "warranty": (True, 14, "customer_owner"),
        "birthday": (True, 3, "customer_owner"),
        "festival": (True, 7, "customer_owner"),
        "declined_work": (True, 14, "advisor"),
        "winback": (True, 0, "customer_owner"),
        "coupon_expiring": (True, 7, "customer_owner"),
        "card_expiring": (True, 14, "customer_owner"),
    }

    care_rule_save(organization=org, kind=CareKind.INSURANCE, data={"lead_days": "45"}, by=owner)

    saved = rule(org, CareKind.INSURANCE)
    assert (saved.is_active, saved.lead_days, saved.owner_mode, saved.owner_id, saved.script) == (
        True,
        45,
        OwnerMode.CUSTOMER_OWNER,
        None,
        "",
    )
    care_rule_save(organization=org, kind=CareKind.INSURANCE, data={"is_active": False}, by=owner)
    assert (rule(org, CareKind.INSURANCE).is_active, rule(org, CareKind.INSURANCE).lead_days) == (False, 45)


@pytest.mark.parametrize("days", [-1, 121, "七", "2.5", None, True])
def test_days_ahead_are_0_to_120(org: Organization, owner: User, days: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.MAINTENANCE, data={"lead_days": days}, by=owner)
    assert refused(exc) == {"lead_days": [str(errors.RULE_LEAD_DAYS)]}
    assert not CareRule.objects.for_org(org).exists()


def test_a_callback_has_no_days_ahead_to_set(org: Organization, owner: User) -> None:
    care_rule_save(organization=org, kind=CareKind.CALLBACK, data={"lead_days": 30}, by=owner)
    assert rule(org, CareKind.CALLBACK).lead_days == 2


def test_only_a_callback_goes_to_the_orders_advisor(org: Organization, owner: User) -> None:
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "advisor"}, by=owner)
    assert refused(exc) == {"owner_mode": [str(errors.RULE_ADVISOR_ONLY_ORDERS)]}
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "boss"}, by=owner)
    assert refused(exc) == {"owner_mode": [str(errors.RULE_OWNER_MODE)]}


def test_one_staff_member_must_be_active_of_this_organization_and_work_the_care_list(
    org: Organization, owner: User, service: User, tech: User, outsider: User
) -> None:
    gone = User.objects.for_org(org).get(pk=service.pk)
    for wanted in (None, "", tech.pk, outsider.pk, "abc"):
        with pytest.raises(ValidationError) as exc:
            care_rule_save(
                organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "fixed", "owner": wanted}, by=owner
            )
        assert refused(exc) == {"owner": [str(errors.RULE_OWNER_REQUIRED)]}

    care_rule_save(
        organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "fixed", "owner": service.pk}, by=owner
    )
    assert rule(org, CareKind.MAINTENANCE).owner == service
    # Back to the customer's owner: the staff member is forgotten.
    care_rule_save(organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "customer_owner"}, by=owner)
    assert rule(org, CareKind.MAINTENANCE).owner is None
    User.objects.for_org(org).filter(pk=gone.pk).update(is_active=False)
    with pytest.raises(ValidationError):
        care_rule_save(
            organization=org, kind=CareKind.MAINTENANCE, data={"owner_mode": "fixed", "owner": service.pk}, by=owner
        )


@pytest.mark.parametrize(
    ("kind", "script", "ok"),
    [
        (CareKind.MAINTENANCE, "{name}您好，{plate}的{service}{due_date}到期，{shop}", True),
        (CareKind.MAINTENANCE, "{{双括号}}照写 {name}", True),
        (CareKind.CALLBACK, "{name}您好，{plate}修好了吗", False),  # a callback knows no plate
        (CareKind.MAINTENANCE, "{name您好", False),
        (CareKind.MAINTENANCE, "您好}", False),
        (CareKind.MAINTENANCE, "{0}您好", False),
        (CareKind.MAINTENANCE, "{name.upper}您好", False),
        (CareKind.MAINTENANCE, "{name!r}您好", False),
        (CareKind.MAINTENANCE, "{name:>10}您好", False),
        (CareKind.MAINTENANCE, "{客户}您好", False),
    ],
)
def test_a_script_names_only_what_its_kind_knows(kind: str, script: str, ok: bool) -> None:
    assert (script_problem(script, kind) is None) is ok


def test_a_bad_script_is_refused_with_the_placeholders_and_a_blank_one_is_the_starter(
    org: Organization, owner: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.INSPECTION, data={"script": "您好{name"}, by=owner)
    assert refused(exc) == {
        "script": [str(errors.RULE_SCRIPT_PLACEHOLDER % {"allowed": "{name} {plate} {due_date} {shop}"})]
    }
    with pytest.raises(ValidationError) as exc:
        care_rule_save(organization=org, kind=CareKind.INSPECTION, data={"script": "长" * 501}, by=owner)
    assert refused(exc) == {"script": [str(errors.RULE_SCRIPT_TOO_LONG)]}

    care_rule_save(organization=org, kind=CareKind.INSPECTION, data={"script": "  "}, by=owner)
    settings = {s.kind: s for s in selectors.rule_settings(organization=org)}
    assert "{plate}" in settings[CareKind.INSPECTION].script  # the starter script


def test_the_sweep_follows_the_saved_rule(
    org: Organization, owner: User, service: User, advisor: User, make_customer: Any, make_vehicle: Any
) -> None:
    today = dt.date(2026, 12, 5)
    customer = make_customer(name="李四", owner=advisor.pk)
    car: Vehicle = make_vehicle(customer, plate="粤B54321")
    vehicle_update(vehicle=car, by=advisor, data={"inspection_due": today + dt.timedelta(days=40)})
    care_rule_save(
        organization=org,
        kind=CareKind.INSPECTION,
        data={"lead_days": 45, "owner_mode": "fixed", "owner": service.pk, "script": "{name}您好，{plate}该年检了"},
        by=owner,
    )

    care_sweep(organization=org, day=today)

    made = CareTask.objects.for_org(org).get(kind=CareKind.INSPECTION)
    assert (made.owner, made.script, made.due_on) == (
        service,
        "李四您好，粤B54321该年检了",
        today + dt.timedelta(days=40),
    )
    care_rule_save(organization=org, kind=CareKind.INSURANCE, data={"is_active": False}, by=owner)
    vehicle_update(vehicle=car, by=advisor, data={"insurance_expiry": today + dt.timedelta(days=3)})
    care_sweep(organization=org, day=today)
    assert not CareTask.objects.for_org(org).filter(kind=CareKind.INSURANCE).exists()


# --- the page --------------------------------------------------------------------------------


def test_the_rules_page_shows_every_kind_and_saves_one(
    client_for: Callable[[User], Client], org: Organization, owner: User, service: User, django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    # 1 session, 2 user + organization, 3 the staff, 4 the tags (whom a rule reaches), 5 the rules (with their
    # tags), 6 the user's shops (switcher).
    with django_assert_num_queries(6):
        page = client.get(RULES)
    body = page.content.decode()
    for kind in ("callback", "maintenance", "insurance", "inspection", "birthday", "festival", "winback"):
        assert f'id="rule-{kind}"' in body
    assert body.count('name="callback-lead_days"') == 0 and 'name="maintenance-lead_days"' in body
    assert body.count('value="advisor"') == len(FROM_AN_ORDER)  # only care that follows an order

    response = client.post(
        RULES,
        {
            "kind": "maintenance",
            "maintenance-is_active": "on",
            "maintenance-lead_days": "10",
            "maintenance-owner_mode": "fixed",
            "maintenance-owner": str(service.pk),
            "maintenance-script": "{name}您好，{plate}快到{service}了",
        },
    )

    assert response.status_code == 302 and response["Location"] == f"{RULES}#rule-maintenance"
    saved = rule(org, CareKind.MAINTENANCE)
    assert (saved.is_active, saved.lead_days, saved.owner, saved.script) == (
        True,
        10,
        service,
        "{name}您好，{plate}快到{service}了",
    )
    assert not CareRule.objects.for_org(org).exclude(kind=CareKind.MAINTENANCE).exists()


def test_the_rules_page_shows_the_services_refusal_on_the_field(
    client_for: Callable[[User], Client], org: Organization, owner: User
) -> None:
    client = client_for(owner)
    fields = {"kind": "insurance", "insurance-lead_days": "10", "insurance-owner_mode": "customer_owner"}

    too_far = client.post(RULES, {**fields, "insurance-lead_days": "200"})
    nobody = client.post(RULES, {**fields, "insurance-owner_mode": "fixed", "insurance-script": "{name}您好{"})

    assert too_far.status_code == 200 and escape(zh(errors.RULE_LEAD_DAYS)) in too_far.content.decode()
    body = nobody.content.decode()
    assert escape(zh(errors.RULE_OWNER_REQUIRED)) in body
    allowed = "{name} {plate} {due_date} {shop}"
    assert escape(zh(errors.RULE_SCRIPT_PLACEHOLDER, allowed=allowed)) in body
    assert not CareRule.objects.for_org(org).exists()


def test_only_the_store_manager_sets_the_rules(client_for: Callable[[User], Client], advisor: User) -> None:
    assert client_for(advisor).get(RULES).status_code == 403
    assert client_for(advisor).post(RULES, {"kind": "callback"}).status_code == 403


def test_a_callback_goes_to_the_fixed_staff_member_after_the_rule_says_so(
    org: Organization,
    owner: User,
    service: User,
    make_order: Any,
    make_service_item: Any,
    advisor: User,
) -> None:
    from huitou.service.services.orders import order_add_line, order_complete, order_pay

    care_rule_save(
        organization=org, kind=CareKind.CALLBACK, data={"owner_mode": "fixed", "owner": service.pk}, by=owner
    )
    order = make_order()
    order_add_line(order=order, by=advisor, service=make_service_item())
    order_complete(order=order, by=advisor)
    order_pay(order=order, by=advisor, method="cash", amount=order.total)

    assert CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK).owner == service
    assert Customer.objects.for_org(org).count() == 1
