"""``huitou demo``: staff with fixed logins, realistic and reproducible customers, separate organizations."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from huitou.api.models import ApiToken
from huitou.api.services import token_create
from huitou.audit.models import ChangeEntry
from huitou.customers.models import ConsentRecord, Customer, MileageReading, Vehicle, VehicleOwnership
from huitou.customers.selectors import customer_list
from huitou.customers.services import DEFAULT_SOURCES
from huitou.demo.generator import DemoGenerator, Permutation
from huitou.demo.models import DemoOrganization
from huitou.demo.services import DEMO_ORG_NAME, DEMO_PASSWORD, LOGIN_URL, demo_build
from huitou.lib.birthdays import validate as validate_birthday
from huitou.lib.phones import normalize_phone
from huitou.lib.plates import normalize_plate
from huitou.lib.vin import check_digit_ok, normalize_vin
from huitou.lifecycle.models import FollowUpTask
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.scope import unscoped
from huitou.tenancy.services import organization_create, staff_create

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def customers_of(organization: Organization) -> list[Customer]:
    return list(Customer.objects.for_org(organization).order_by("pk"))


# --- the command ----------------------------------------------------------------------------


def test_the_command_creates_staff_of_every_role_with_the_fixed_usernames(db: Any) -> None:
    output = run_demo("--customers", "6", "--seed", "3")

    organization = Organization.objects.get(name=DEMO_ORG_NAME)
    staff = {u.username: u for u in User.objects.for_org(organization)}
    assert {name: u.role for name, u in staff.items()} == {
        "owner": Role.OWNER,
        "advisor": Role.ADVISOR,
        "service": Role.SERVICE,
        "tech": Role.TECHNICIAN,
    }
    assert all(u.check_password(DEMO_PASSWORD) for u in staff.values())
    assert len(customers_of(organization)) == 6
    assert LOGIN_URL in output
    for username in staff:
        assert any(username in line and DEMO_PASSWORD in line for line in output.splitlines())


def test_the_demo_organization_has_two_shops_and_every_owner_works_at_one(db: Any) -> None:
    run_demo("--customers", "0")
    organization = Organization.objects.get(name=DEMO_ORG_NAME)
    assert sorted(s.name for s in Shop.objects.for_org(organization)) == ["顺达汽修（城西店）", "顺达汽修（总店）"]
    assert all(u.shops.exists() for u in User.objects.for_org(organization))


def test_running_it_again_without_reset_changes_nothing(db: Any) -> None:
    run_demo("--customers", "5", "--seed", "3")
    with unscoped():  # every organization's customers
        before = [(c.pk, c.name, c.phone) for c in Customer.objects.order_by("pk")]

    output = run_demo("--customers", "5", "--seed", "4")

    assert "already exists" in output
    with unscoped():
        assert [(c.pk, c.name, c.phone) for c in Customer.objects.order_by("pk")] == before
    assert Organization.objects.count() == 1
    assert User.objects.count() == 4


def test_reset_replaces_the_demo_organization_and_everything_in_it(db: Any) -> None:
    run_demo("--customers", "8", "--seed", "3")
    old = Organization.objects.get()
    token_create(user=User.objects.get(username="advisor"))

    run_demo("--customers", "4", "--seed", "5", "--reset")

    new = Organization.objects.get()
    assert new.pk != old.pk
    assert len(customers_of(new)) == 4
    assert not ChangeEntry.objects.filter(organization_id=old.pk).exists()
    assert not ApiToken.objects.exists()
    assert User.objects.filter(username="advisor", organization=new).exists()


def test_reset_leaves_other_organizations_alone(db: Any) -> None:
    run_demo("--customers", "5", "--seed", "3")
    run_demo("--org", "隔壁车行", "--user-prefix", "gebi_", "--customers", "5", "--seed", "9")
    neighbour = Organization.objects.get(name="隔壁车行")
    kept = [(c.pk, c.name) for c in customers_of(neighbour)]

    run_demo("--customers", "3", "--reset")

    assert [(c.pk, c.name) for c in customers_of(neighbour)] == kept
    assert Vehicle.objects.for_org(neighbour).exists()


def test_it_refuses_usernames_taken_by_a_real_organization(db: Any) -> None:
    real = organization_create(name="真实车行", shop_names=["真实车行"])
    staff_create(organization=real, username="owner", password="x", role=Role.OWNER, validate=False)

    with pytest.raises(CommandError, match="owner"):
        run_demo("--customers", "3", "--reset")

    assert list(Organization.objects.all()) == [real]
    assert not DemoOrganization.objects.exists()


def test_org_and_user_prefix_go_together(db: Any) -> None:
    with pytest.raises(CommandError):
        run_demo("--org", "隔壁车行")
    with pytest.raises(CommandError):
        run_demo("--user-prefix", "x_")


# --- a further organization -------------------------------------------------------------------


def test_a_further_organization_has_its_own_staff_and_customers(db: Any) -> None:
    run_demo("--customers", "12", "--seed", "3")
    run_demo("--org", "隔壁车行", "--user-prefix", "gebi_", "--customers", "12", "--seed", "4")

    first = Organization.objects.get(name=DEMO_ORG_NAME)
    second = Organization.objects.get(name="隔壁车行")
    assert {u.username for u in User.objects.for_org(second)} == {
        "gebi_owner",
        "gebi_advisor",
        "gebi_service",
        "gebi_tech",
    }
    theirs = customers_of(second)
    mine = {c.pk for c in customer_list(organization=first)}
    assert len(theirs) == 12 and len(mine) == 12
    assert not mine & {c.pk for c in theirs}
    for customer in theirs:
        for q in (customer.name, customer.phone_display, customer.name_pinyin):
            assert not {c.pk for c in customer_list(organization=first, q=q)} & {customer.pk}
    for vehicle in Vehicle.objects.for_org(second):
        assert not customer_list(organization=first, q=vehicle.plate).filter(organization=second).exists()
        assert vehicle.customer_id not in {c.pk for c in customer_list(organization=first, q=vehicle.plate)}


# --- reproducible data --------------------------------------------------------------------------


def _fingerprint(organization: Organization) -> list[tuple[Any, ...]]:
    return [
        (c.name, c.phone, sorted(Vehicle.objects.for_org(organization).filter(customer=c).values_list("plate", "vin")))
        for c in customers_of(organization)
    ]


def test_the_same_seed_gives_the_same_people_phones_and_plates(db: Any) -> None:
    first = demo_build(customers=15, seed=11, now=NOW).organization
    second = demo_build(customers=15, seed=11, now=NOW, org_name="另一家", user_prefix="b_").organization
    third = demo_build(customers=15, seed=12, now=NOW, org_name="第三家", user_prefix="c_").organization

    assert _fingerprint(first) == _fingerprint(second)
    assert _fingerprint(first) != _fingerprint(third)


def test_the_generator_repeats_itself_exactly_for_a_seed() -> None:
    assert list(DemoGenerator(seed=5, now=NOW).customers(300)) == list(DemoGenerator(seed=5, now=NOW).customers(300))


def test_another_day_gives_the_same_people_and_cars_with_the_dates_moved() -> None:
    today = list(DemoGenerator(seed=5, now=NOW).customers(200))
    later = list(DemoGenerator(seed=5, now=NOW + dt.timedelta(days=400)).customers(200))
    for a, b in zip(today, later, strict=True):
        assert (a.name, a.phone, a.stage, a.tags) == (b.name, b.phone, b.stage, b.tags)
        assert [(v.plate, v.vin, v.year) for v in a.vehicles] == [(v.plate, v.vin, v.year) for v in b.vehicles]
        assert b.created_at - a.created_at == dt.timedelta(days=400)
        assert [r.read_at + dt.timedelta(days=400) for v in a.vehicles for r in v.readings] == [
            r.read_at for v in b.vehicles for r in v.readings
        ]


def test_a_permutation_never_gives_the_same_number_twice() -> None:
    permutation = Permutation(10_000, key=3)
    assert sorted(permutation(i) for i in range(10_000)) == list(range(10_000))


# --- realistic and valid data -------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs() -> list[Any]:
    return list(DemoGenerator(seed=2026, now=NOW).customers(5_000))


def test_every_phone_is_a_valid_unique_mobile_number(specs: list[Any]) -> None:
    phones = [s.phone for s in specs if s.phone]
    assert len(phones) > 0.95 * len(specs)
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert normalize_phone(phone) == phone
        assert phone[3] == "1"
    assert all(s.phone or s.wechat for s in specs)


def test_every_plate_is_valid_and_unique_and_a_fifth_are_new_energy(specs: list[Any]) -> None:
    plates = [v.plate for s in specs for v in s.vehicles]
    assert len(set(plates)) == len(plates)
    for plate in plates:
        assert normalize_plate(plate) == plate
        assert "I" not in plate and "O" not in plate
    assert 0.15 < sum(len(p) == 8 for p in plates) / len(plates) < 0.25
    assert 1.15 < len(plates) / len(specs) < 1.3
    assert Counter(p[:2] for p in plates).most_common(1)[0][0] == "浙A"


def test_vins_are_valid_with_a_correct_check_digit_except_a_few_imports(specs: list[Any]) -> None:
    vehicles = [v for s in specs for v in s.vehicles if v.vin]
    vins = [v.vin for v in vehicles]
    assert len(set(vins)) == len(vins)
    for vehicle in vehicles:
        assert normalize_vin(vehicle.vin) == vehicle.vin
        assert check_digit_ok(vehicle.vin) is not vehicle.vin_check_failed
    failed = [v for v in vehicles if v.vin_check_failed]
    assert 0 < len(failed) < 0.03 * len(vehicles)
    assert {v.vin[:3] for v in failed} <= {"WBA", "WDD", "WP1"}


def test_names_are_chinese_with_common_and_compound_surnames(specs: list[Any]) -> None:
    names = [s.name for s in specs]
    assert all(2 <= len(n) <= 4 for n in names)
    assert any(n.startswith(("欧阳", "司马", "上官", "诸葛")) for n in names)
    assert Counter(n[0] for n in names).most_common(3)[0][0] in "王李张"
    assert {len(n) for n in names if not n.startswith(("欧阳", "司马", "上官", "诸葛"))} == {2, 3}


def test_files_spread_over_stages_owners_sources_and_tags(specs: list[Any]) -> None:
    assert {s.stage for s in specs} == {"prospect", "intent", "customer", "member", "dormant", "lost"}
    assert {s.owner for s in specs} == {"owner", "advisor", "service"}
    assert {s.source for s in specs} == {code for code, _label in DEFAULT_SOURCES}
    tags = Counter(t for s in specs for t in s.tags)
    assert {"传播型", "VIP", "价格敏感", "新能源车主", "爱洗车"} <= set(tags)
    assert all(("新能源车主" in s.tags) == any(len(v.plate) == 8 for v in s.vehicles) for s in specs)
    assert 0.2 < sum(bool(s.occupation) for s in specs) / len(specs) < 0.8
    assert 0.3 < sum(bool(s.consents) for s in specs) / len(specs) < 0.8
    assert any(s.household is not None for s in specs)


def test_birthdays_are_valid_and_some_are_lunar(specs: list[Any]) -> None:
    with_birthday = [s for s in specs if s.birth_month]
    assert 0.4 < len(with_birthday) / len(specs) < 0.7
    for s in with_birthday:
        validate_birthday(s.birth_month, s.birth_day, s.birthday_calendar, s.birth_year)
    assert 0.05 < sum(s.birthday_calendar == "lunar" for s in with_birthday) / len(with_birthday) < 0.4


def test_mileage_goes_up_over_time_and_nothing_happens_in_the_future(specs: list[Any]) -> None:
    for s in specs:
        assert s.created_at < NOW and s.updated_at < NOW
        for v in s.vehicles:
            assert v.purchase_date <= v.created_at.date()
            assert v.created_at >= s.created_at
            times = [r.read_at for r in v.readings]
            kms = [r.km for r in v.readings]
            assert times == sorted(times) and all(v.created_at <= t < NOW for t in times)
            assert all(a < b for a, b in zip(kms, kms[1:], strict=False))
    assert max(len(v.readings) for s in specs for v in s.vehicles) >= 4


def test_values_are_plain_strings_not_enum_members(specs: list[Any]) -> None:
    spec = specs[0]
    for value in (spec.stage, spec.gender, spec.birthday_calendar, spec.consent_method, spec.preferred_channel):
        assert type(value) is str


# --- the story's dates, given to the services ----------------------------------------------------


def test_the_services_record_the_history_at_the_time_things_happened_in_the_story(db: Any) -> None:
    organization = demo_build(customers=10, seed=8, now=NOW, history=False).organization
    changes = ChangeEntry.objects.for_org(organization)
    for c in customers_of(organization):
        created = changes.get(subject_type="customer", subject_id=c.pk, action=ChangeEntry.Action.CREATED)
        assert created.at == c.created_at < NOW - dt.timedelta(days=1)
        for consent in ConsentRecord.objects.for_org(organization).filter(customer=c):
            assert consent.at == c.created_at
        for v in Vehicle.objects.for_org(organization).filter(customer=c):
            assert changes.get(subject_type="vehicle", subject_id=v.pk, action="created").at == v.created_at
            assert VehicleOwnership.objects.for_org(organization).get(vehicle=v).since == v.created_at
        for reading in MileageReading.objects.for_org(organization).filter(vehicle__customer=c):
            assert changes.filter(
                subject_type="vehicle", subject_id=reading.vehicle_id, action="mileage", at=reading.read_at
            ).exists()
    # Nothing the demo wrote carries the day it was built.
    assert not changes.filter(at__gte=NOW).exists()
    assert not FollowUpTask.objects.for_org(organization).filter(created_at__gte=NOW).exists()


def test_the_demo_patches_no_clock() -> None:
    import huitou.demo

    sources = Path(huitou.demo.__file__).parent.rglob("*.py")
    assert not [p.name for p in sources if "tests" not in p.parts and "mock" in p.read_text()]
