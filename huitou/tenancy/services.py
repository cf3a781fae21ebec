"""Organizations, shops and staff."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role

USERNAME_TAKEN = _("This username is already taken.")
ROLE_INVALID = _("Unknown role.")
SHOP_INVALID = _("Choose shops of this organization.")
LAST_OWNER = _("An organization needs at least one active store manager.")


def organization_create(*, name: str, shop_names: Iterable[str]) -> Organization:
    """A new tenant with its shops, the default customer sources and follow-up plans."""
    from huitou.customers.services import sources_seed
    from huitou.lifecycle.services.plans import plans_seed

    with transaction.atomic():
        organization = Organization.objects.create(name=name)
        for shop_name in shop_names:
            Shop.objects.create(organization=organization, name=shop_name)
        sources_seed(organization=organization)
        plans_seed(organization=organization)
    return organization


def _check_shops(organization: Organization, shops: Iterable[Shop]) -> list[Shop]:
    shops = list(shops)
    if any(s.organization_id != organization.pk for s in shops):
        raise ValidationError({"shops": [SHOP_INVALID]})
    return shops


def staff_create(
    *,
    organization: Organization,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    shops: Iterable[Shop] = (),
    validate: bool = True,
) -> User:
    if role not in Role.values:
        raise ValidationError({"role": [ROLE_INVALID]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [USERNAME_TAKEN]})
    user = User(username=username, organization=organization, role=role, display_name=display_name)
    if validate:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    shop_list = _check_shops(organization, shops)
    with transaction.atomic():
        user.save()
        user.shops.set(shop_list)
    return user


def staff_update(
    *,
    user: User,
    role: str,
    display_name: str,
    shops: Iterable[Shop],
    password: str = "",
) -> User:
    if role not in Role.values:
        raise ValidationError({"role": [ROLE_INVALID]})
    organization = user.organization
    assert organization is not None
    if user.role == Role.OWNER and role != Role.OWNER:
        owners = User.objects.for_org(organization).filter(role=Role.OWNER, is_active=True).exclude(pk=user.pk)
        if not owners.exists():
            raise ValidationError({"role": [LAST_OWNER]})
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        user.set_password(password)
    shop_list = _check_shops(organization, shops)
    with transaction.atomic():
        user.role, user.display_name = role, display_name
        user.save()
        user.shops.set(shop_list)
    return user


INACTIVITY_DAYS_INVALID = _("Enter a whole number of days from 0 to 3650.")
LOST_BEFORE_DORMANT = _("A customer becomes lost later than dormant: enter more days than for dormant, or 0.")


def organization_inactivity_set(*, organization: Organization, dormant_after_days: int, lost_after_days: int) -> None:
    """After how many days without a visit customers become dormant and lost (0: never)."""
    errs: dict[str, list[object]] = {}
    for field, value in (("dormant_after_days", dormant_after_days), ("lost_after_days", lost_after_days)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3650:
            errs[field] = [INACTIVITY_DAYS_INVALID]
    if not errs and dormant_after_days and lost_after_days and lost_after_days <= dormant_after_days:
        errs["lost_after_days"] = [LOST_BEFORE_DORMANT]
    if errs:
        raise ValidationError(errs)
    organization.dormant_after_days, organization.lost_after_days = dormant_after_days, lost_after_days
    organization.save(update_fields=["dormant_after_days", "lost_after_days"])
