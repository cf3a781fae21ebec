"""Personal-data rights: the copy holds every kind; erasure leaves no personal value in any table,
keeps the totals, and is the store manager's alone; the retention rule anonymises old prospects."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from huitou.audit.models import ChangeEntry
from huitou.care.models import CareKind, CareTask
from huitou.care.services.complaints import complaint_open
from huitou.care.services.tasks import care_task_done
from huitou.customers.models import Customer, Vehicle
from huitou.customers.services import consent_set, customer_restore, customer_update, household_link, mileage_record
from huitou.customers.trigram import TRIGRAM_TABLES
from huitou.lifecycle.models import FollowUp
from huitou.lifecycle.services.followups import followup_record
from huitou.loyalty.services.cards import card_product_save
from huitou.loyalty.services.referrals import referrer_type_set
from huitou.loyalty.services.stored_value import stored_value_top_up
from huitou.loyalty.services.tiers import membership_set_tier
from huitou.loyalty.starter import loyalty_seed
from huitou.messaging.models import Message
from huitou.messaging.services.send import message_send
from huitou.privacy import errors
from huitou.privacy.models import Erasure
from huitou.privacy.registry import kinds
from huitou.privacy.services import customer_erase, prospects_anonymise, retention_set
from huitou.service.models import ServiceOrder
from huitou.service.services.appointments import appointment_book
from huitou.service.services.orders import (
    order_add_line,
    order_adjust,
    order_complete,
    order_pay,
    recommendation_add,
)
from huitou.tenancy.models import Organization, User
from huitou.testing.fixtures import first_shop
from huitou.testing.text import zh

Make = Callable[..., Any]

NAME, OLD_NAME = "欧阳娜娜", "欧阳娜"
PHONE, OLD_PHONE = "13812345678", "13987650000"
WECHAT = "ouyang_nana_88"
NOTES = "喜欢周六上午来，车库门禁卡号A1234"
PLATE, VIN = "粤B86420", "LSVAM4187C2184847"
MESSAGE = "刹车片下周到货，到时约您来换"  # names no one: erased as a whole, not by the sweep


def text_columns() -> list[tuple[str, str]]:
    """Every text, character and JSON column of every table of the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                if not column.type_code:
                    continue  # SQLite's trigram index tables (no text of their own; see in_trigram_index)
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind in ("CharField", "TextField", "JSONField", "SlugField", "EmailField"):
                    found.append((table, column.name))
    return found


def in_trigram_index(part: str) -> bool:
    """Whether ``part`` is spelled out in the pages of SQLite's trigram index tables.

    They keep each trigram once, after the characters it shares with the one
    before it: the tail of a name ("娜娜" of "欧阳娜娜") is there as written."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        blocks = []
        for index, _table, _columns in TRIGRAM_TABLES:
            cursor.execute(f"SELECT block FROM {index}_data")  # noqa: S608
            blocks += [bytes(row[0] or b"") for row in cursor.fetchall()]
    return any(part.encode() in block for block in blocks)


def where_in_database(value: str) -> list[str]:
    """The columns anywhere in the database holding ``value`` (as typed, or JSON-escaped as SQLite keeps it)."""
    spellings = {value, json.dumps(value)[1:-1]}
    hits = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            q = connection.ops.quote_name
            for spelling in spellings:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {q(table)} WHERE CAST({q(column)} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{spelling}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column}")
    return hits


@pytest.fixture
def person(
    org: Organization,
    advisor: User,
    owner: User,
    make_customer: Make,
    make_vehicle: Make,
    make_order: Make,
    make_service_item: Make,
    make_opening_hours: Make,
) -> Customer:
    """A customer with everything: a changed name and phone, a car with readings, a paid order, an open
    order, an appointment, follow-ups, consent, a family member and tags; membership (a tier, a top-up,
    a package card, points, a coupon, a referral's reward), a callback done, a complaint and a message."""
    customer = make_customer(name=OLD_NAME, phone=OLD_PHONE, wechat=WECHAT, notes=NOTES, tags=["贵宾"])
    customer_update(
        customer=customer, by=advisor, data={"name": NAME, "phone": PHONE, "address": "深圳市南山区科技园一号"}
    )
    relative = make_customer(name="欧阳大伟", phone="13711112222", notes=f"妻子{NAME}，电话{PHONE}")
    household_link(customer=customer, other=relative, by=advisor)
    consent_set(customer=customer, channel="sms", granted=True, method="paper_form", purpose="保养提醒", by=advisor)
    car = make_vehicle(customer, plate=PLATE, vin=VIN, mileage_km=40000)
    mileage_record(vehicle=car, km=41000, by=advisor)
    item = make_service_item(name="小保养", labour_price="300.00")
    loyalty_seed(organization=org)  # tiers, the top-up bonus, the 满100送20 coupon rule, the referral reward
    card = card_product_save(
        organization=org,
        data={"code": "maint-3", "name": "保养3次卡", "price": "99", "uses": 3, "binding": "customer",
              "services": [item.pk]},
    )  # fmt: skip
    membership_set_tier(customer=customer, tier=None, by=advisor, note=f"{NAME}在前台入会")
    referrer_type_set(customer=customer, referrer_type="honour", by=advisor)
    stored_value_top_up(customer=customer, amount="1000", method="wechat", by=advisor, reference=f"{NAME}转账")
    paid = make_order(car, description=f"{NAME}说刹车异响")
    order_add_line(order=paid, by=advisor, service=item)
    order_add_line(order=paid, by=advisor, service=card.sale_item)
    order_complete(order=paid, by=advisor)
    order_pay(order=paid, by=advisor, method="wechat", amount="399.00", reference="4200001234")
    callback = CareTask.objects.for_org(org).get(kind=CareKind.CALLBACK, order=paid)
    care_task_done(task=callback, by=advisor, result=f"{NAME}对保养很满意", score=5)
    complaint_open(customer=customer, summary=f"{NAME}说洗车有划痕", by=owner)
    friend = make_customer(name="欧阳的同事", phone="13722223333", referrer=customer.pk)
    first = make_order(make_vehicle(friend))
    order_add_line(order=first, by=advisor, service=item)
    order_complete(order=first, by=advisor)
    order_pay(order=first, by=advisor, method="cash", amount="300.00")
    order_adjust(order=paid, by=owner, amount="-20.00", reason="老客户优惠")
    recommendation_add(order=paid, by=advisor, description="刹车片磨损", estimate="300")
    make_order(car, description="洗车")
    make_opening_hours()
    appointment_book(
        shop=first_shop(org),
        customer=customer,
        vehicle=car,
        day=timezone.localdate() + dt.timedelta(days=3),
        slot=dt.time(9),
        by=advisor,
        note=f"{NAME}要开发票",
    )
    followup_record(
        customer=customer,
        by=advisor,
        channel="phone",
        content=f"{NAME}说下月来",
        next_step="再打电话",
        next_due=timezone.localdate() + dt.timedelta(days=9),
    )
    message_send(customer=customer, body=MESSAGE, purpose="service", by=advisor)  # by hand, still waiting
    customer.refresh_from_db()
    return customer


def test_the_copy_holds_every_kind_of_data(
    person: Customer, owner: User, client_for: Callable[[User], Client], bearer: Callable[[User], Client]
) -> None:
    document = bearer(owner).get(f"/api/v1/customers/{person.pk}/personal-data").json()

    expected = {k.name for k in kinds() if k.collect is not None}
    assert set(document["kinds"]) == expected
    empty = [name for name, rows in document["kinds"].items() if not rows]
    assert empty == [], f"the copy has nothing for {empty}"
    assert document["kinds"]["profile"][0]["phone"] == "+86" + PHONE
    assert document["kinds"]["payments"][0]["amount"] == "399.00"
    assert [(m["body"], m["state"] in ("queued", "held")) for m in document["kinds"]["messages"]] == [(MESSAGE, True)]
    assert any(e["changes"].get("phone") == ["+86" + OLD_PHONE, "+86" + PHONE] for e in document["kinds"]["history"])

    book = load_workbook(io.BytesIO(client_for(owner).get(reverse("privacy:copy_xlsx", args=[person.pk])).content))
    assert len(book.worksheets) == len(expected)
    page_json = json.loads(client_for(owner).get(reverse("privacy:copy_json", args=[person.pk])).content)
    assert page_json["kinds"].keys() == document["kinds"].keys()


def test_erasure_leaves_no_personal_value_anywhere_and_keeps_the_totals(
    person: Customer, org: Organization, owner: User, bearer: Callable[[User], Client]
) -> None:
    values = [NAME, OLD_NAME, PHONE, OLD_PHONE, WECHAT, NOTES, PLATE, VIN, "深圳市南山区科技园一号", MESSAGE]
    assert all(where_in_database(v) for v in values), "the test must find each value before"
    assert in_trigram_index(NAME[-2:]) == (connection.vendor == "sqlite")
    orders_before = list(
        ServiceOrder.objects.for_org(org).filter(customer=person).values_list("number", "total", "amount_paid", "state")
    )
    followups = FollowUp.objects.for_org(org).filter(customer=person).count()

    erased = bearer(owner).post(
        f"/api/v1/customers/{person.pk}/erase",
        json.dumps({"reason": f"{NAME}本人来店要求删除"}),
        content_type="application/json",
    )

    assert erased.status_code == 200, erased.content
    found = {v: where_in_database(v) for v in values}
    assert found == {v: [] for v in values}
    assert not in_trigram_index(NAME[-2:])
    person.refresh_from_db()
    assert (person.visit_count, person.lifetime_spend) == (1, 379)
    assert person.first_visit_at is not None and person.deleted_at is not None
    assert person.name == "已注销客户"
    assert (
        list(
            ServiceOrder.objects.for_org(org)
            .filter(customer=person)
            .values_list("number", "total", "amount_paid", "state")
        )
        == orders_before
    )
    assert FollowUp.objects.for_org(org).filter(customer=person).count() == followups
    message = Message.objects.for_org(org).get(customer=person)
    assert (message.body, message.to, message.state, message.reason) == ("***", "", "refused", "customer_deleted")
    assert Vehicle.objects.for_org(org).get(customer=person).brand == "丰田"
    erasure = Erasure.objects.for_org(org).get(customer=person)
    assert (erasure.by, erasure.reason) == (owner, "***本人来店要求删除")
    assert erased.json() == {
        "customer_id": person.pk,
        "erased_at": erased.json()["erased_at"],
        "by": owner.pk,
        "reason": "***本人来店要求删除",
        "files": 1,
    }
    assert ChangeEntry.objects.for_org(org).filter(subject_type="erasure", customer_id=person.pk, actor=owner).exists()


def test_only_the_store_manager_erases_and_only_with_a_reason(
    person: Customer, owner: User, advisor: User, client_for: Callable[[User], Client], bearer: Callable[[User], Client]
) -> None:
    url = f"/api/v1/customers/{person.pk}/erase"
    assert bearer(advisor).post(url, json.dumps({"reason": "x"}), content_type="application/json").status_code == 403
    assert (
        client_for(advisor)
        .post(reverse("privacy:erase", args=[person.pk]), {"reason": "x", "confirm": person.pk})
        .status_code
        == 403
    )
    blank = bearer(owner).post(url, json.dumps({"reason": "  "}), content_type="application/json")
    assert blank.status_code == 422 and blank.json()["errors"] == {"reason": [zh(errors.REASON_REQUIRED)]}
    unconfirmed = client_for(owner).post(
        reverse("privacy:erase", args=[person.pk]), {"reason": "本人要求", "confirm": "0"}
    )
    assert zh(errors.CONFIRM_REQUIRED) in unconfirmed.content.decode()
    assert not Erasure.objects.for_org(person.organization_id).exists()


def test_the_page_erases_after_the_confirmation(
    person: Customer, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    assert client.get(reverse("privacy:erase", args=[person.pk])).status_code == 200
    done = client.post(
        reverse("privacy:erase", args=[person.pk]), {"reason": "本人要求", "confirm": str(person.pk)}, follow=True
    )
    assert done.status_code == 200
    assert Erasure.objects.for_org(person.organization_id).filter(customer=person).exists()
    assert "已注销客户" in done.content.decode()


def test_an_erased_file_stays_erased(person: Customer, owner: User) -> None:
    customer_erase(customer=person, by=owner, reason="本人要求")
    with pytest.raises(Exception, match=str(zh(errors.ALREADY_ERASED))[:10]):
        customer_erase(customer=person, by=owner, reason="再来一次")
    person.refresh_from_db()
    with pytest.raises(Exception) as refused:
        customer_restore(customer=person, by=owner)
    assert zh(errors.ERASED_NO_RESTORE) in str(refused.value)
    person.refresh_from_db()
    assert person.deleted_at is not None


def test_the_merged_duplicates_are_erased_with_the_file(org: Organization, owner: User, make_customer: Make) -> None:
    from huitou.lifecycle.services.merge import customer_merge

    keep = make_customer(name="司马光", phone="13600001234")
    duplicate = make_customer(name="司马光明", phone="13600005678", wechat="sima_guang_dup")
    customer_merge(keep=keep, other=duplicate, by=owner)

    erasure = customer_erase(customer=keep, by=owner, reason="本人要求")

    assert erasure.files == 2
    assert where_in_database("司马光") == [] and where_in_database("13600005678") == []
    assert where_in_database("sima_guang_dup") == []


def test_the_retention_rule_anonymises_old_prospects_who_never_paid(
    person: Customer, org: Organization, owner: User, make_customer: Make
) -> None:
    old = make_customer(name="慕容复", phone="13500001111")
    recent = make_customer(name="段誉", phone="13500002222")
    long_ago = timezone.now() - dt.timedelta(days=400)
    Customer.objects.for_org(org).filter(pk__in=[old.pk, person.pk]).update(created_at=long_ago)

    assert prospects_anonymise(organization=org) == 0, "off by default"
    retention_set(organization=org, months=12, by=owner)
    assert prospects_anonymise(organization=org) == 1
    assert prospects_anonymise(organization=org) == 0, "safe to run twice"

    assert where_in_database("慕容复") == [] and where_in_database("13500001111") == []
    assert Customer.objects.for_org(org).get(pk=recent.pk).name == "段誉"
    assert Customer.objects.for_org(org).get(pk=person.pk).name == NAME, "a paying customer stays"
    assert Erasure.objects.for_org(org).get(customer=old).by is None


def test_the_nightly_task_runs_the_retention_of_each_organization(
    org: Organization, owner: User, make_customer: Make
) -> None:
    from huitou.privacy.tasks import prospects_anonymise_daily

    old = make_customer(name="慕容复", phone="13500001111")
    Customer.objects.for_org(org).filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))
    retention_set(organization=org, months=3, by=owner)
    prospects_anonymise_daily.call_local()
    assert Customer.objects.for_org(org).get(pk=old.pk).name == "已注销客户"


def test_another_organizations_customer_is_not_found(
    person: Customer, outsider: User, client_for: Callable[[User], Client], bearer: Callable[[User], Client]
) -> None:
    api, page = bearer(outsider), client_for(outsider)
    assert api.get(f"/api/v1/customers/{person.pk}/personal-data").status_code == 404
    erase = api.post(
        f"/api/v1/customers/{person.pk}/erase", json.dumps({"reason": "x"}), content_type="application/json"
    )
    assert erase.status_code == 404
    for name in ("rights", "copy_json", "copy_xlsx", "erase"):
        assert page.get(reverse(f"privacy:{name}", args=[person.pk])).status_code == 404
    assert (
        page.post(reverse("privacy:erase", args=[person.pk]), {"reason": "x", "confirm": person.pk}).status_code == 404
    )
    assert not Erasure.objects.for_org(person.organization_id).exists()


def test_the_store_manager_sets_and_clears_the_retention_on_its_page(
    org: Organization, owner: User, advisor: User, client_for: Callable[[User], Client]
) -> None:
    from huitou.privacy.services import retention_months

    url = reverse("privacy:retention")
    assert client_for(advisor).get(url).status_code == 403
    assert client_for(advisor).post(url, {"prospect_retention_months": "6"}).status_code == 403
    assert retention_months(org) is None, "off by default"
    with pytest.raises(PermissionDenied):
        retention_set(organization=org, months=6, by=advisor)
    with pytest.raises(ValidationError) as refused:
        retention_set(organization=org, months=0, by=owner)
    assert refused.value.message_dict == {"prospect_retention_months": [str(errors.RETENTION_INVALID)]}

    client = client_for(owner)
    assert client.post(url, {"prospect_retention_months": "18"}).status_code == 302
    assert retention_months(org) == 18
    assert 'value="18"' in client.get(url).content.decode()
    assert client.post(url, {"prospect_retention_months": "121"}).status_code == 200
    assert retention_months(org) == 18
    assert client.post(url, {"prospect_retention_months": ""}).status_code == 302
    assert retention_months(org) is None
