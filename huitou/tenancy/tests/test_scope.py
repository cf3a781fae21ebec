"""An unscoped query on tenant data fails loudly; scoped ones work.

Walks every concrete model that subclasses ``TenantModel`` (a model added
later is covered without anyone remembering to add it) and every relation
that leads to one.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.test.utils import CaptureQueriesContext

from huitou.customers.models import Customer, Vehicle
from huitou.tenancy.models import Organization, Shop, TenantManager, TenantModel, TenantQuerySet, User
from huitou.tenancy.scope import UnscopedQuery, crossing_allowed, unscoped

TENANT_MODELS = sorted((m for m in apps.get_models() if issubclass(m, TenantModel)), key=lambda m: m._meta.label)


def _relations_to_tenant_models() -> list[tuple[type[models.Model], str]]:
    """(model, accessor) for every related manager that reads a tenant model."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            target = field.related_model
            if not (isinstance(target, type) and issubclass(target, TenantModel)):
                continue
            if field.auto_created and (field.one_to_many or field.many_to_many) and not field.hidden:
                found.append((model, field.get_accessor_name()))
            elif field.many_to_many and not field.auto_created:
                found.append((model, field.name))
    return sorted(found, key=lambda pair: (pair[0]._meta.label, pair[1]))


RELATIONS = _relations_to_tenant_models()


def _in_memory(model: type[models.Model], org: Organization) -> models.Model:
    """A row of ``model`` as if loaded: enough for its related managers."""
    return model(pk=10**9, organization_id=org.pk) if hasattr(model, "organization_id") else model(pk=10**9)


def test_the_walk_finds_the_tenant_models_and_their_relations() -> None:
    labels = {m._meta.label for m in TENANT_MODELS}
    assert {"customers.Customer", "customers.Vehicle", "service.ServiceOrder", "tenancy.Shop"} <= labels
    assert (Customer, "vehicles") in RELATIONS
    assert (User, "shops") in RELATIONS


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_every_tenant_model_refuses_unscoped_queries(model: type[TenantModel], org: Organization) -> None:
    assert isinstance(model._default_manager, TenantManager)
    assert model._default_manager is model.objects  # type: ignore[attr-defined]
    assert isinstance(model.objects.all(), TenantQuerySet)  # type: ignore[attr-defined]
    objects: Any = model.objects  # type: ignore[attr-defined]
    with pytest.raises(UnscopedQuery, match=model.__name__):
        list(objects.all())
    with pytest.raises(UnscopedQuery):
        objects.filter(pk=1).first()
    with pytest.raises(UnscopedQuery):
        objects.get(pk=1)
    with pytest.raises(UnscopedQuery):
        objects.count()
    with pytest.raises(UnscopedQuery):
        objects.filter(pk=1).exists()
    with pytest.raises(UnscopedQuery):
        objects.update(organization=F("organization"))
    with pytest.raises(UnscopedQuery):
        objects.filter(pk=1).delete()


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_every_tenant_model_answers_scoped_queries(model: type[TenantModel], org: Organization) -> None:
    objects: Any = model.objects  # type: ignore[attr-defined]
    mine = objects.for_org(org)
    assert list(mine.filter(pk=-1)) == []
    assert mine.count() == objects.filter(organization=org).count() == objects.filter(organization_id=org.pk).count()
    assert not objects.filter(organization_id__in=[org.pk], pk=-1).exists()
    assert mine.filter(pk=-1).update(organization=F("organization")) == 0
    assert list(objects.none()) == []
    with unscoped():
        assert objects.count() >= mine.count()
        assert list(objects.filter(pk=-1)) == []


@pytest.mark.parametrize(("model", "accessor"), RELATIONS, ids=lambda x: x if isinstance(x, str) else x._meta.label)
def test_related_managers_are_scoped_and_name_the_organization(
    model: type[models.Model], accessor: str, org: Organization
) -> None:
    instance = _in_memory(model, org)
    with CaptureQueriesContext(connection) as queries:
        assert list(getattr(instance, accessor).all()) == []
        assert getattr(instance, accessor).count() == 0
    assert len(queries) == 2
    for query in queries:
        assert "organization_id" in query["sql"], query["sql"]
    # Prefetching for rows already loaded reads through the same manager.
    with CaptureQueriesContext(connection) as queries:
        models.prefetch_related_objects([instance], accessor)
    assert len(queries) == 1
    assert "organization_id" in queries[0]["sql"], queries[0]["sql"]
    assert list(getattr(instance, accessor).all()) == []


def test_a_related_manager_reads_its_rows_on_the_instances_organization(
    make_customer: Any, make_vehicle: Any, org: Organization
) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer=customer, plate="粤B12345")
    with CaptureQueriesContext(connection) as queries:
        assert list(customer.vehicles.all()) == [vehicle]
    assert f'"organization_id" = {org.pk}' in queries[0]["sql"].replace("`", '"')
    assert customer.vehicles.filter(plate="粤B12345").get() == vehicle


def test_prefetch_reads_rows_of_several_organizations_inside_unscoped(
    make_customer: Any, make_vehicle: Any, org: Organization, other_org: Organization, outsider: User
) -> None:
    from huitou.customers.services import customer_create, vehicle_create

    mine = make_customer(name="张三")
    make_vehicle(customer=mine, plate="粤B12345")
    theirs = customer_create(organization=other_org, by=outsider, data={"name": "李四"})
    vehicle_create(customer=theirs, by=outsider, data={"plate": "粤B54321"})
    with unscoped():
        customers = list(Customer.objects.filter(pk__in=[mine.pk, theirs.pk]).prefetch_related("vehicles"))
    assert sorted(v.plate for c in customers for v in c.vehicles.all()) == ["粤B12345", "粤B54321"]
    # Scoped, the same prefetch needs no marking.
    customers = list(Customer.objects.for_org(org).prefetch_related("vehicles"))
    assert [v.plate for c in customers for v in c.vehicles.all()] == ["粤B12345"]


def test_filtering_by_loaded_rows_scopes_a_query(make_customer: Any, make_vehicle: Any) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer=customer, plate="粤B12345")
    assert list(Vehicle.objects.filter(customer=customer)) == [vehicle]
    assert list(Vehicle.objects.filter(customer__in=[customer])) == [vehicle]
    assert list(Vehicle.objects.filter(Q(customer=customer) & Q(plate="粤B12345"))) == [vehicle]
    assert list(Vehicle.objects.filter(customer__in=Customer.objects.for_org(customer.organization_id))) == [vehicle]
    # An id is not a loaded row, an unscoped subquery does not scope, and neither does a negation.
    with pytest.raises(UnscopedQuery):
        list(Vehicle.objects.filter(customer_id=customer.pk))
    with pytest.raises(UnscopedQuery):
        list(Vehicle.objects.filter(customer__in=Customer.objects.all()))
    with pytest.raises(UnscopedQuery):
        list(Vehicle.objects.exclude(organization_id=customer.organization_id))
    with pytest.raises(UnscopedQuery):
        list(Vehicle.objects.filter(Q(organization_id=customer.organization_id) | Q(plate="粤B12345")))
    with pytest.raises(UnscopedQuery):
        list(Vehicle.objects.filter(customer__in=[]))


def test_every_way_of_evaluating_checks_the_scope(make_customer: Any, make_vehicle: Any) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer=customer, plate="粤B12345")
    evaluations = {
        "iterate": lambda qs: list(qs),
        "len": lambda qs: len(qs),
        "bool": lambda qs: bool(qs),
        "index": lambda qs: qs[0],
        "first": lambda qs: qs.first(),
        "get": lambda qs: qs.get(pk=vehicle.pk),
        "latest": lambda qs: qs.latest("created_at"),
        "count": lambda qs: qs.count(),
        "exists": lambda qs: qs.exists(),
        "contains": lambda qs: qs.contains(vehicle),
        "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
        "iterator": lambda qs: list(qs.iterator()),
        "in_bulk": lambda qs: qs.in_bulk([vehicle.pk]),
        "values": lambda qs: list(qs.values("plate")),
        "values_list": lambda qs: list(qs.values_list("plate", flat=True)),
        "explain": lambda qs: qs.explain(),
        "update": lambda qs: qs.filter(pk=vehicle.pk).update(colour="白"),
        "bulk_update": lambda qs: qs.bulk_update([vehicle], ["colour"]),
        "delete": lambda qs: qs.filter(pk=-1).delete(),
        "select_for_update": lambda qs: qs.select_for_update().get(pk=vehicle.pk),
    }
    refused = []
    for name, evaluate in evaluations.items():
        try:
            evaluate(Vehicle.objects.all())
        except UnscopedQuery:
            refused.append(name)
        evaluate(Vehicle.objects.for_org(customer.organization_id))
        with unscoped():
            evaluate(Vehicle.objects.all())
    assert refused == list(evaluations)


def test_get_or_create_and_update_or_create_are_scoped_by_their_organization(org: Organization) -> None:
    from huitou.customers.models import Tag

    tag, created = Tag.objects.get_or_create(organization=org, name="VIP")
    assert created
    same, created = Tag.objects.update_or_create(organization_id=org.pk, name="VIP")
    assert (same, created) == (tag, False)
    with pytest.raises(UnscopedQuery):
        Tag.objects.get_or_create(name="VIP", defaults={"organization": org})


def test_creating_rows_needs_no_scope(org: Organization) -> None:
    from huitou.customers.models import Tag

    Tag.objects.create(organization=org, name="A")
    Tag.objects.bulk_create([Tag(organization=org, name="B")])
    assert sorted(Tag.objects.for_org(org).values_list("name", flat=True)) == ["A", "B"]


def test_subqueries_are_compiled_into_their_scoped_query(make_customer: Any, make_vehicle: Any) -> None:
    customer = make_customer(name="张三")
    make_vehicle(customer=customer, plate="粤B12345")
    make_customer(name="李四", phone="13800138001")
    with_vehicle = Customer.objects.for_org(customer.organization_id).filter(
        Exists(Vehicle.objects.filter(customer=OuterRef("pk")))
    )
    assert list(with_vehicle) == [customer]
    plates = Customer.objects.for_org(customer.organization_id).annotate(
        plate=Subquery(Vehicle.objects.filter(customer=OuterRef("pk")).values("plate")[:1])
    )
    assert sorted((c.name, c.plate) for c in plates) == [("张三", "粤B12345"), ("李四", None)]


def test_forward_relations_and_deletion_use_the_plain_base_manager(make_customer: Any, make_vehicle: Any) -> None:
    customer = make_customer(name="张三")
    vehicle = make_vehicle(customer=customer, plate="粤B12345")
    assert type(Vehicle._base_manager) is models.Manager
    assert type(Vehicle._base_manager.all()) is models.QuerySet
    loaded = Vehicle.objects.for_org(customer.organization_id).get(pk=vehicle.pk)
    assert loaded.customer == customer
    loaded.refresh_from_db()
    assert list(Vehicle.objects.for_org(customer.organization_id).select_related("customer")) == [vehicle]


def test_shops_of_a_member_of_staff_are_scoped(owner: User, org: Organization) -> None:
    with CaptureQueriesContext(connection) as queries:
        shops = list(owner.shops.all())
    assert shops and all(s.organization_id == org.pk for s in shops)
    assert "organization_id" in queries[0]["sql"]
    assert list(Shop.objects.filter(staff=owner).for_org(org)) == list(owner.shops.order_by("pk"))


def test_unscoped_nests_and_is_a_decorator() -> None:
    assert not crossing_allowed()

    @unscoped()
    def job() -> bool:
        with unscoped():
            pass
        return crossing_allowed()

    with unscoped():
        with unscoped():
            assert crossing_allowed()
        assert crossing_allowed()
    assert not crossing_allowed()
    assert job()
    assert not crossing_allowed()


def test_the_message_says_how_to_scope() -> None:
    with pytest.raises(UnscopedQuery) as exc:
        Customer.objects.count()
    assert isinstance(exc.value, RuntimeError)
    assert "Customer.objects.for_org(organization)" in str(exc.value)
    assert "unscoped()" in str(exc.value)


@pytest.mark.django_db
def test_migrations_use_plain_managers() -> None:
    """Historical models in migrations are not tenant managers: data migrations need no scope."""
    state = MigrationExecutor(connection).loader.project_state()
    for model in TENANT_MODELS:
        historical = state.apps.get_model(model._meta.label)
        assert not isinstance(historical._default_manager, TenantManager)
        historical._default_manager.count()
