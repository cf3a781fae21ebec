"""Building (and rebuilding) demo organizations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone

from huitou.demo.generator import MAX_CUSTOMERS, DemoGenerator
from huitou.demo.loaders import BulkLoader, LoadStats, load_with_services
from huitou.demo.models import DemoOrganization
from huitou.demo.orders import BulkStats, HistoryStats, bulk_orders, catalog_and_hours, history_with_services
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import organization_create, staff_create

DEMO_ORG_NAME = "顺达汽修"
DEMO_BRANCH = "城西店"
OTHER_BRANCH = "城东店"
# Public on purpose: ``huitou demo`` prints it with the usernames.
DEMO_PASSWORD = "huitou-demo-2026"  # noqa: S105
LOGIN_URL = "http://127.0.0.1:8000/login/"
# Up to this many customers go through the services (with change history).
SERVICES_LIMIT = 2_000
USERNAME_PREFIX = re.compile(r"[\w.@+-]{0,20}")

# (username without prefix, role, display name, shops by index)
STAFF = (
    ("owner", Role.OWNER, "王店长", (0, 1)),
    ("advisor", Role.ADVISOR, "李顾问", (0,)),
    ("service", Role.SERVICE, "赵客服", (0, 1)),
    ("tech", Role.TECHNICIAN, "孙技师", (1,)),
)


class DemoError(Exception):
    pass


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str


@dataclass
class DemoResult:
    organization: Organization
    created: bool
    logins: list[Login] = field(default_factory=list)
    stats: LoadStats | None = None
    method: str = ""
    orders: HistoryStats | BulkStats | None = None


def demo_logins(user_prefix: str) -> list[Login]:
    return [Login(user_prefix + key, DEMO_PASSWORD, role.value) for key, role, _name, _shops in STAFF]


def demo_build(
    *,
    customers: int = 300,
    seed: int = 2026,
    org_name: str = DEMO_ORG_NAME,
    user_prefix: str = "",
    reset: bool = False,
    method: str = "auto",
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
    orders_per_customer: float | None = None,
    history: bool = True,
) -> DemoResult:
    """Create a demo organization with staff of every role and ``customers`` customers.

    If the demo organization for ``user_prefix`` exists it is left alone
    (``created`` is False) unless ``reset`` is given, which deletes it first.
    ``method`` is "services", "bulk" or "auto" (services for small demos).
    Every file has its lifecycle: need, referrer, follow-ups, stage changes
    and the follow-up tasks open today, overdue and upcoming. Every demo gets
    the starter catalog and opening hours; a demo built through the services
    also gets two years of orders, today's work and the coming appointments
    (``huitou.demo.orders``), whose payments convert the files. ``orders_per_customer`` writes that
    many paid orders per customer in bulk instead (for large demos); with
    ``history`` False there are no orders or appointments.
    """
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise DemoError(f"--customers must be between 0 and {MAX_CUSTOMERS:,}.")
    if not USERNAME_PREFIX.fullmatch(user_prefix):
        raise DemoError("--user-prefix may hold letters, digits and @ . + - _ only (at most 20).")
    if method not in ("auto", "services", "bulk"):
        raise DemoError(f"Unknown method {method!r}.")
    if orders_per_customer is not None and not 0 <= orders_per_customer <= 100:
        raise DemoError("--orders-per-customer must be between 0 and 100.")
    if method == "auto":
        method = "services" if customers <= SERVICES_LIMIT else "bulk"
    logins = demo_logins(user_prefix)
    existing = DemoOrganization.objects.filter(user_prefix=user_prefix).select_related("organization").first()
    if existing is not None and not reset:
        return DemoResult(organization=existing.organization, created=False, logins=logins)
    with transaction.atomic():
        if existing is not None:
            organization_purge(organization=existing.organization)
        taken = list(
            User.objects.filter(username__in=[login.username for login in logins]).values_list("username", flat=True)
        )
        if taken:
            raise DemoError(
                f"The username(s) {', '.join(taken)} belong to an organization that is not a demo; "
                "choose another --user-prefix."
            )
        organization = organization_create(
            name=org_name,
            shop_names=[f"{org_name}（总店）", f"{org_name}（{DEMO_BRANCH if not user_prefix else OTHER_BRANCH}）"],
        )
        DemoOrganization.objects.create(
            organization=organization, user_prefix=user_prefix, seed=seed, customers=customers
        )
        shops = list(Shop.objects.for_org(organization).order_by("pk"))
        staff = {
            key: staff_create(
                organization=organization,
                username=user_prefix + key,
                password=DEMO_PASSWORD,
                role=role,
                display_name=name,
                shops=[shops[i] for i in shop_indexes],
                validate=False,
            )
            for key, role, name, shop_indexes in STAFF
        }
        now = now or timezone.localtime()
        generator = DemoGenerator(seed=seed, now=now)
        specs = generator.customers(customers)
        service_history = method == "services" and history and orders_per_customer is None
        if method == "services":
            stats = load_with_services(
                organization=organization, staff=staff, specs=specs, progress=progress, orders_follow=service_history
            )
        else:
            loader = BulkLoader(organization=organization, staff=staff, visits_recorded=orders_per_customer is not None)
            stats = loader.load(specs, total=customers, progress=progress, log=log)
        orders: HistoryStats | BulkStats | None = None
        if orders_per_customer is not None:
            orders = bulk_orders(
                organization=organization, staff=staff, per_customer=orders_per_customer, seed=seed, now=now, log=log
            )
        elif service_history:
            orders = history_with_services(
                organization=organization, staff=staff, seed=seed, now=now, lifecycle=stats.after_first_visit
            )
        else:
            catalog_and_hours(organization=organization)
    return DemoResult(organization=organization, created=True, logins=logins, stats=stats, method=method, orders=orders)


def _tenant_models() -> list[tuple[type[models.Model], str]]:
    """Every model with a column pointing at Organization, with that column."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is Organization:
                found.append((model, cast(str, f.column)))
    return found


def organization_purge(*, organization: Organization) -> None:
    """Delete an organization and every row that belongs to it.

    Rows of other tables that point at its rows (API tokens of its staff,
    many-to-many links) are deleted or cleared first, through the ORM; the
    tenant tables are then emptied for the organization with one DELETE each
    (foreign keys are checked at commit, so the order does not matter).
    """
    tenant = _tenant_models()
    tenant_models = {model for model, _column in tenant}
    qn = connection.ops.quote_name
    with transaction.atomic():
        for model, column in tenant:
            owned = model._base_manager.filter(**{column: organization.pk}).values("pk")
            for rel in model._meta.get_fields(include_hidden=True):
                if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
                    continue
                dependent = rel.related_model
                if dependent is None or dependent in tenant_models:
                    continue
                dependents = dependent._base_manager.filter(**{f"{rel.field.name}__in": owned})
                if rel.on_delete is models.SET_NULL:
                    dependents.update(**{rel.field.name: None})
                else:
                    dependents.delete()
        with connection.cursor() as cursor:
            for model, column in tenant:
                cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(column)} = %s", [organization.pk])  # noqa: S608
        Organization.objects.filter(pk=organization.pk).delete()
