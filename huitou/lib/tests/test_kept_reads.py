"""The reads the customer file, the order page and every signed-in request make from kept statements
(``huitou.lib.statements``): the same rows as Django builds them, each shape kept and shared by every
organization (the organization is one of its values), never another organization's rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import pytest
from django.db.models import Model
from django.utils import timezone

from huitou.audit.selectors import subject_history
from huitou.customers import selectors as customer_selectors
from huitou.customers.models import Customer
from huitou.customers.services import household_link
from huitou.demo.services import DEFAULT_SEED, demo_build, organization_purge
from huitou.lib import statements
from huitou.lifecycle import selectors as lifecycle_selectors
from huitou.loyalty.selectors.accounts import account_for
from huitou.loyalty.selectors.members import tiers_for
from huitou.loyalty.selectors.referrals import referrals_for_customer
from huitou.loyalty.selectors.rewards import coupons_for_customer
from huitou.loyalty.selectors.wallet import cards_for_customer
from huitou.service import selectors as service_selectors
from huitou.service.models import ServiceOrder
from huitou.tenancy.backends import StaffBackend
from huitou.tenancy.models import Organization, User
from huitou.tenancy.scope import unscoped
from huitou.tenancy.selectors import shop_list_for_user, shops_for_user

READS: dict[str, Callable[[Customer], Any]] = {
    "visit history": lambda c: service_selectors.visit_history(customer=c, limit=11),
    "declined recommendations": lambda c: service_selectors.declined_recommendations(customer=c),
    "file history": lambda c: customer_selectors.customer_history(customer=c),
    "consent records": lambda c: customer_selectors.consent_history(customer=c),
    "stage history": lambda c: lifecycle_selectors.stage_history(customer=c),
    "open tasks": lambda c: lifecycle_selectors.open_tasks_for_customer(customer=c),
    "follow-ups": lambda c: lifecycle_selectors.followups_for_customer(customer=c, limit=5),
    "membership account": lambda c: [a] if (a := account_for(c)) is not None else [],
    "package cards": cards_for_customer,
    "coupons": coupons_for_customer,
    "referrals": lambda c: referrals_for_customer(c, account=account_for(c))["items"],
    "tiers": lambda c: tiers_for(c.organization_id),
}


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """A demo organization: orders, history, follow-ups, tasks, members, cards (read-only here)."""
    with django_db_blocker.unblock():
        result = demo_build(customers=40, seed=DEFAULT_SEED, user_prefix="kept_", org_name="保留语句")
        yield result
        organization_purge(organization=result.organization)


@pytest.fixture
def through_django(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], Any]], Any]:
    """Run a read with every value refused: Django builds and runs each statement, nothing is kept."""

    def run(read: Callable[[], Any]) -> Any:
        with monkeypatch.context() as patched:
            patched.setattr(statements, "_refused", lambda value: True)
            return read()

    return run


def signature(row: Any) -> Any:
    """A row as data: its model, its columns and the rows selected with it (their keys)."""
    if isinstance(row, dict):
        return sorted(row.items())
    assert isinstance(row, Model)
    deferred = row.get_deferred_fields()  # not read (``only()``): left unread here too
    columns = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in deferred}
    joined = {name: getattr(obj, "pk", None) for name, obj in row._state.fields_cache.items()}
    annotations = {k: v for k, v in vars(row).items() if k not in columns and not k.startswith("_")}
    return (
        type(row).__name__,
        sorted(columns.items()),
        sorted(deferred),
        sorted(joined.items()),
        sorted(annotations.items()),
    )


def customers(org: Organization) -> list[Customer]:
    """The files with the most behind them, and some with nothing."""
    with unscoped():
        busy = list(Customer.objects.filter(organization=org).order_by("-visit_count", "pk")[:12])
        quiet = list(Customer.objects.filter(organization=org, visit_count=0).order_by("pk")[:3])
    return busy + quiet


def test_each_read_gives_the_rows_django_gives(demo: Any, db: Any, through_django: Any) -> None:
    files = customers(demo.organization)
    for name, read in READS.items():
        kept = {c.pk: [signature(r) for r in read(c)] for c in files}
        made = {c.pk: [signature(r) for r in through_django(lambda c=c, read=read: read(c))] for c in files}
        assert kept == made, name
        assert any(kept.values()), f"{name}: the demo gives it nothing to read"
    kinds = {cast(tuple, key)[1][0]: type(statement).__name__ for key, statement in statements._kept().items()}
    assert set(kinds.values()) == {"_Statement"}, kinds  # every shape kept, none left to Django
    # The referrals read the account (the membership's shape) and two of their own: referees, rewards.
    assert len(kinds) == len(READS) + 1, kinds


def test_the_file_reads_the_customer_cars_readings_and_household_as_django_does(
    demo: Any, db: Any, through_django: Any, django_assert_num_queries: Any
) -> None:
    org = demo.organization
    files = customers(org)
    with unscoped():
        by = User.objects.filter(organization=org).order_by("pk").first()
    household_link(customer=files[0], other=files[-1], by=by)  # a household, with one of the quiet files

    def whole(customer: Customer) -> Any:
        members: Iterable[Customer] = customer.household.members.all() if customer.household else []
        return (
            signature(customer),
            [(signature(v), [signature(r) for r in v.readings.all()]) for v in customer.vehicles.all()],
            [signature(m) for m in members],
        )

    readings = households = 0
    for c in files:
        kept = customer_selectors.customer_for_file(organization=org, customer_id=c.pk)
        with django_assert_num_queries(0):  # the cars, their readings and the household come with it
            kept_whole = whole(kept)
        made = through_django(lambda c=c: customer_selectors.customer_for_file(organization=org, customer_id=c.pk))
        assert kept_whole == whole(made)
        assert all(r.vehicle is v for v in kept.vehicles.all() for r in v.readings.all())
        readings += sum(len(v.readings.all()) for v in kept.vehicles.all())
        households += bool(kept.household_id)
    assert readings and households
    with pytest.raises(Customer.DoesNotExist):
        customer_selectors.customer_for_file(organization=demo.organization.pk + 10_000, customer_id=c.pk)


def test_a_read_never_gives_another_organizations_rows(demo: Any, db: Any, other_org: Organization) -> None:
    files = customers(demo.organization)
    for name, read in READS.items():
        assert any(read(c) for c in files), name  # its shape is kept, with rows
        shapes = len(statements._kept())
        for c in files:
            # The same id seen from another organization: the same statement, that organization's
            # id in it (the organization is one of its values), no rows.
            stranger = Customer(pk=c.pk, organization_id=other_org.pk, name=c.name)
            assert list(read(stranger)) == [], name
        assert len(statements._kept()) == shapes, name  # no statement of its own for the other organization


def test_a_read_is_one_statement_once_kept(demo: Any, db: Any, django_assert_num_queries: Any) -> None:
    first, second = customers(demo.organization)[:2]
    for name, read in READS.items():
        read(first)
        # The kept statement, nothing compiled; the referrals: the account, the referees, the rewards.
        with django_assert_num_queries(3 if name == "referrals" else 1):
            read(second)


def orders(org: Organization) -> list[int]:
    with unscoped():
        rows = ServiceOrder.objects.filter(organization=org).order_by("-opened_at", "pk")
        return list(rows.values_list("pk", flat=True)[:15])


def test_the_order_page_reads_the_order_and_its_parts_as_django_does(
    demo: Any, db: Any, through_django: Any, django_assert_num_queries: Any
) -> None:
    org = demo.organization
    parts = list(service_selectors.ORDER_PARTS)
    seen = dict.fromkeys(parts, 0)
    for order_id in orders(org):
        with django_assert_num_queries(5):  # the order, then its lines, payments, adjustments, recommendations
            kept = service_selectors.order_for_page(organization=org, order_id=order_id)
        made = through_django(
            lambda order_id=order_id: service_selectors.order_for_page(organization=org, order_id=order_id)
        )
        assert signature(kept) == signature(made)
        with django_assert_num_queries(0):  # the parts come with the order, each row knows it
            for relation in parts:
                rows = list(getattr(kept, relation).all())
                assert [signature(r) for r in rows] == [signature(r) for r in getattr(made, relation).all()]
                assert all(r.order is kept for r in rows)
                seen[relation] += len(rows)
        with django_assert_num_queries(1):  # filtering a part still asks the database
            assert kept.lines.filter(pk__gt=0).count() == len(kept.lines.all())
        history = subject_history(organization_id=org.pk, subject_type="serviceorder", subject_id=order_id)
        assert [signature(e) for e in history] == [
            signature(e)
            for e in through_django(
                lambda order_id=order_id: subject_history(
                    organization_id=org.pk, subject_type="serviceorder", subject_id=order_id
                )
            )
        ]
    assert all(seen[relation] for relation in ("lines", "payments")), seen


def test_another_organizations_order_is_not_found(demo: Any, db: Any, other_org: Organization) -> None:
    order_id = orders(demo.organization)[0]
    service_selectors.order_for_page(organization=demo.organization, order_id=order_id)
    with pytest.raises(ServiceOrder.DoesNotExist):
        service_selectors.order_for_page(organization=other_org, order_id=order_id)
    with pytest.raises(ServiceOrder.DoesNotExist):
        service_selectors.order_for_page(organization=other_org.pk, order_id=order_id)


def test_the_signed_in_user_and_their_shops(demo: Any, db: Any, django_assert_num_queries: Any) -> None:
    backend = StaffBackend()
    with unscoped():
        staff = list(User.objects.filter(organization=demo.organization).order_by("pk"))
    for user in staff:
        with django_assert_num_queries(1):
            found = backend.get_user(str(user.pk))  # the session keeps the id as text
        assert found is not None and found.pk == user.pk and found.organization == demo.organization
        assert [s.pk for s in shop_list_for_user(found)] == [s.pk for s in shops_for_user(found)]
    assert backend.get_user("not a number") is None
    assert backend.get_user(max(u.pk for u in staff) + 1_000) is None


def test_an_inactive_user_is_signed_out_at_once(demo: Any, db: Any) -> None:
    backend = StaffBackend()
    with unscoped():
        user = User.objects.filter(organization=demo.organization).order_by("pk").first()
    assert user is not None and backend.get_user(user.pk) is not None
    User.objects.filter(pk=user.pk).update(is_active=False, last_login=timezone.now())
    assert backend.get_user(user.pk) is None  # the kept statement reads the row as it is now
