from __future__ import annotations

import functools
from typing import Any, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.roles import Role, role_allows
from huitou.tenancy.scope import UnscopedQuery, crossing_allowed


class Organization(models.Model):
    """The tenant: an independent shop or a chain brand."""

    name = models.CharField(_("name"), max_length=100)
    # The lifecycle: a customer with no visit for this many days becomes dormant,
    # and later lost (0: never automatically).
    dormant_after_days = models.PositiveSmallIntegerField(_("dormant after (days without a visit)"), default=180)
    lost_after_days = models.PositiveSmallIntegerField(_("lost after (days without a visit)"), default=365)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


# Lookups that name the organization: any of them scopes a query.
_ORGANIZATION_LOOKUPS = frozenset(
    f"{field}{suffix}"
    for field in ("organization", "organization_id", "organization__id", "organization__pk")
    for suffix in ("", "__exact", "__in")
)


def _organization_id_of(obj: Any) -> int | None:
    """The organization of a loaded row (a tenant row, or a member of staff), if it has one."""
    return getattr(obj, "organization_id", None) if isinstance(obj, models.Model) else None


def _scopes(key: str, value: Any) -> bool:
    """Whether the lookup ``key=value`` confines a query to organizations already chosen.

    A tenant row used as a value was itself read in scope, and so was a
    scoped queryset used as a subquery.
    """
    if key in _ORGANIZATION_LOOKUPS or isinstance(value, TenantModel):
        return True
    if isinstance(value, TenantQuerySet):
        return value._tenant_scoped
    if isinstance(value, list | tuple | set | frozenset):
        return bool(value) and all(isinstance(v, TenantModel) for v in value)
    return False


def _q_scopes(q: Q) -> bool:
    """A Q scopes when one of its conditions does and all of them must hold."""
    if q.negated or (q.connector != Q.AND and len(q.children) > 1):
        return False
    return any(
        _q_scopes(child) if isinstance(child, Q) else isinstance(child, tuple) and _scopes(*child)
        for child in q.children
    )


class TenantQuerySet(models.QuerySet):
    """A query on tenant data; evaluating it requires a scope.

    It is scoped by ``for_org``, by a filter on the organization or on rows
    already loaded, by ``none()``, or by coming from a related manager of a
    loaded row. Evaluating an unscoped one raises ``UnscopedQuery`` outside
    ``huitou.tenancy.scope.unscoped()``. Building one, using it as a
    subquery and creating rows need no scope.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenant_scoped = False

    def for_org(self, organization: Organization | int) -> Self:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._tenant_scoped = self._tenant_scoped
        return clone

    def filter(self, *args: Any, **kwargs: Any) -> Self:
        clone = super().filter(*args, **kwargs)
        if not clone._tenant_scoped and (
            any(_scopes(k, v) for k, v in kwargs.items()) or any(isinstance(a, Q) and _q_scopes(a) for a in args)
        ):
            clone._tenant_scoped = True
        return clone

    def none(self) -> Self:
        clone = super().none()
        clone._tenant_scoped = True
        return clone

    def _require_scope(self) -> None:
        if not self._tenant_scoped and not crossing_allowed():
            raise UnscopedQuery(self.model.__name__)

    # Every way a query reaches the database checks the scope first.

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._require_scope()
        return super().iterator(chunk_size)

    def aiterator(self, chunk_size: int = 2000) -> Any:
        self._require_scope()
        return super().aiterator(chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def contains(self, obj: models.Model) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().contains(obj)

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def in_bulk(self, *args: Any, **kwargs: Any) -> Any:
        self._require_scope()
        return super().in_bulk(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._require_scope()
        return super().update(**kwargs)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        self._require_scope()
        return super().bulk_update(*args, **kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._require_scope()
        return super().delete()

    def explain(self, *args: Any, **kwargs: Any) -> str:
        self._require_scope()
        return super().explain(*args, **kwargs)


class TenantManager(models.Manager):
    """The default manager of tenant models.

    Django builds the related managers (``customer.vehicles``) as subclasses
    of it, bound to a loaded ``instance``: their queries are scoped, and they
    also filter on the instance's organization, so each stays on one shard
    under Citus. Prefetching through them is scoped the same way.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Django's related managers define these two; nothing else does.
        if "_apply_rel_filters" in cls.__dict__ and "__init__" in cls.__dict__:
            cls.__init__ = _with_organization_filter(cls.__init__)  # type: ignore[method-assign]
        if "_apply_rel_filters" in cls.__dict__ and "get_prefetch_querysets" in cls.__dict__:
            cls.get_prefetch_querysets = _with_prefetch_scope(cls, cls.get_prefetch_querysets)  # type: ignore[attr-defined]

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        if getattr(self, "instance", None) is not None:
            queryset._tenant_scoped = True
        return queryset


def _with_organization_filter(init: Any) -> Any:
    """A related manager's ``__init__`` whose filter also names the instance's organization."""

    @functools.wraps(init)
    def __init__(self: Any, instance: Any, *args: Any, **kwargs: Any) -> None:
        init(self, instance, *args, **kwargs)
        org_id = _organization_id_of(instance)
        if org_id is not None:
            self.core_filters = {**self.core_filters, "organization_id": org_id}

    return __init__


def _with_prefetch_scope(cls: type[Any], get_prefetch_querysets: Any) -> Any:
    """Prefetching for loaded rows: scoped, and filtered on their organizations."""

    @functools.wraps(get_prefetch_querysets)
    def wrapper(self: Any, instances: list[Any], querysets: list[Any] | None = None) -> Any:
        queryset = querysets[0] if querysets else super(cls, self).get_queryset()
        org_ids = {_organization_id_of(instance) for instance in instances}
        if None not in org_ids and not queryset.query.is_sliced:
            queryset = (
                queryset.filter(organization_id=org_ids.pop())
                if len(org_ids) == 1
                else queryset.filter(organization_id__in=org_ids)
            )
        queryset = queryset._chain()
        queryset._tenant_scoped = True
        return get_prefetch_querysets(self, instances, [queryset])

    return wrapper


class TenantModel(models.Model):
    """Base for every table that belongs to one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    objects = TenantManager.from_queryset(TenantQuerySet)()

    class Meta:
        abstract = True


class Shop(TenantModel):
    """A store location of an organization."""

    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="shop_unique_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffManager(UserManager["User"]):
    def for_org(self, organization: Organization | int) -> models.QuerySet[User]:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class User(AbstractUser):
    """A staff member. Belongs to one organization, works at one or more shops."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ADVISOR)
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    shops = models.ManyToManyField(Shop, blank=True, related_name="staff", verbose_name=_("shops"))

    objects = StaffManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        indexes = [models.Index(fields=["organization", "role"], name="user_org_role_idx")]

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_role_perm(self, perm: str) -> bool:
        return bool(self.is_active and self.organization_id and role_allows(self.role, perm))

    @property
    def label(self) -> str:
        return str(self)
