"""Building (and rebuilding) demo organizations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone

from huitou.demo.generator import DemoGenerator
from huitou.demo.loaders import LoadStats, load_with_services
from huitou.demo.models import DemoOrganization
from huitou.demo.orders import HistoryStats, catalog_and_hours, history_with_services
from huitou.lib.sqlite import planner_stats_refresh
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.scope import unscoped
from huitou.tenancy.services import organization_create, staff_create

DEMO_ORG_NAME = "顺达汽修"
DEMO_BRANCH = "城西店"
OTHER_BRANCH = "城东店"
# Public on purpose: ``huitou demo`` prints it with the usernames.
DEMO_PASSWORD = "huitou-demo-2026"  # noqa: S105
LOGIN_URL = "http://127.0.0.1:8000/login/"
# The demo goes through the services (with change history): this many customers at most.
MAX_CUSTOMERS = 2_000
# The default demo (``huitou demo``, ``huitou quickstart``): small enough to build in seconds, and a
# seed whose 60 files give every front-desk user follow-ups due today, overdue and upcoming.
DEFAULT_CUSTOMERS = 60
DEFAULT_SEED = 21
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
    orders: Any = None  # HistoryStats here; the bench's bulk build reports its own


def demo_logins(user_prefix: str) -> list[Login]:
    return [Login(user_prefix + key, DEMO_PASSWORD, role.value) for key, role, _name, _shops in STAFF]


@dataclass
class DemoSetup:
    """A new demo organization with its shops and staff, before any customer."""

    organization: Organization
    staff: dict[str, User]
    logins: list[Login]


def demo_organization_create(
    *, customers: int, seed: int, org_name: str = DEMO_ORG_NAME, user_prefix: str = "", reset: bool = False
) -> DemoSetup | DemoResult:
    """The demo organization for ``user_prefix`` with two shops and staff of every role, marked as a demo.

    If it exists it is left alone (a ``DemoResult`` with ``created`` False)
    unless ``reset`` is given, which deletes it first. Runs in the caller's
    transaction.
    """
    if not USERNAME_PREFIX.fullmatch(user_prefix):
        raise DemoError("--user-prefix may hold letters, digits and @ . + - _ only (at most 20).")
    logins = demo_logins(user_prefix)
    existing = DemoOrganization.objects.filter(user_prefix=user_prefix).select_related("organization").first()
    if existing is not None and not reset:
        return DemoResult(organization=existing.organization, created=False, logins=logins)
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
    DemoOrganization.objects.create(organization=organization, user_prefix=user_prefix, seed=seed, customers=customers)
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
    return DemoSetup(organization=organization, staff=staff, logins=logins)


def demo_build(
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    org_name: str = DEMO_ORG_NAME,
    user_prefix: str = "",
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    history: bool = True,
) -> DemoResult:
    """Create a demo organization with staff of every role and ``customers`` customers, through the services.

    If the demo organization for ``user_prefix`` exists it is left alone
    (``created`` is False) unless ``reset`` is given, which deletes it first.
    Every file has its lifecycle: need, referrer, follow-ups, stage changes
    and the follow-up tasks open today, overdue and upcoming, each written
    by the service that would have written it, at its time in the story.
    Every demo gets the starter catalog and opening hours; with ``history``
    it also gets two years of orders, today's work and the coming
    appointments (``huitou.demo.orders``), whose payments convert the files.
    The million-row data sets of the benchmarks are written by
    ``bench/bulkload`` instead.
    """
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise DemoError(f"--customers must be between 0 and {MAX_CUSTOMERS:,} (larger data sets: bench/build_db.py).")
    with transaction.atomic():
        setup = demo_organization_create(
            customers=customers, seed=seed, org_name=org_name, user_prefix=user_prefix, reset=reset
        )
        if isinstance(setup, DemoResult):
            return setup
        organization, staff = setup.organization, setup.staff
        now = now or timezone.localtime()
        specs = DemoGenerator(seed=seed, now=now).customers(customers)
        stats = load_with_services(
            organization=organization, staff=staff, specs=specs, progress=progress, orders_follow=history
        )
        orders: HistoryStats | None = None
        if history:
            orders = history_with_services(
                organization=organization, staff=staff, seed=seed, now=now, lifecycle=stats.after_first_visit
            )
        else:
            catalog_and_hours(organization=organization)
    planner_stats_refresh()
    return DemoResult(
        organization=organization, created=True, logins=setup.logins, stats=stats, method="services", orders=orders
    )


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
    # It empties one organization's rows of every tenant table, and the rows of other tables pointing at them.
    with unscoped(), transaction.atomic():
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
