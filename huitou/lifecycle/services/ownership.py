"""Ownership: every prospect and customer has exactly one owner among the active staff.

New prospects are given an owner by hand or in turn (round robin) among
the staff chosen for the rotation. A staff member who leaves hands all
their customers and open follow-up tasks to others in the same transaction
that deactivates them, so no customer is left with an inactive owner
(孤儿客户). Every owner change is in the customer's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers import errors as customer_errors
from huitou.customers.models import Customer
from huitou.lifecycle import errors, events
from huitou.lifecycle.models import FollowUpTask, ProspectRotation
from huitou.service.errors import RoleRefused
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm, Role


def _active_staff(organization: Organization, ids: Sequence[int]) -> list[User]:
    found = {u.pk: u for u in User.objects.for_org(organization).filter(pk__in=list(ids), is_active=True)}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def _takers(organization: Organization, from_user: User, to_user_ids: Sequence[int]) -> list[User]:
    """The staff who take ``from_user``'s customers, each an active colleague (a typo must not send
    the customers elsewhere), none of them ``from_user``."""
    targets = _active_staff(organization, to_user_ids)
    if len(targets) != len(set(to_user_ids)):
        raise ValidationError({"to": [errors.REASSIGN_TARGET_REQUIRED]})
    if any(t.pk == from_user.pk for t in targets):
        raise ValidationError({"to": [errors.REASSIGN_TO_SELF]})
    return targets


def rotation_set(*, organization: Organization, member_ids: Sequence[int]) -> ProspectRotation:
    """Choose the staff who take new prospects in turn."""
    members = _active_staff(organization, member_ids)
    if len(members) != len(set(member_ids)):
        raise ValidationError({"members": [errors.REASSIGN_TARGET_REQUIRED]})
    with transaction.atomic():
        rotation, _created = ProspectRotation.objects.get_or_create(organization=organization)
        rotation.members.set(members)
    return rotation


def owner_next_in_turn(*, organization: Organization) -> User:
    """The next staff member of the rotation, after the one who took the last prospect.

    The rotation row is locked, so two prospects captured at once go to two
    different people. Inactive members are skipped.
    """
    with transaction.atomic():
        rotation = ProspectRotation.objects.select_for_update().filter(organization=organization).first()
        members = (
            sorted(rotation.members.filter(is_active=True, organization=organization), key=lambda u: u.pk)
            if rotation
            else []
        )
        if rotation is None or not members:
            raise ValidationError({"owner": [errors.ROTATION_EMPTY]})
        last = rotation.last_assigned_id or 0
        chosen = next((u for u in members if u.pk > last), members[0])
        rotation.last_assigned = chosen
        rotation.save(update_fields=["last_assigned"])
    return chosen


def customers_reassign(
    *,
    organization: Organization,
    from_user: User,
    to_user_ids: Sequence[int],
    by: User | None,
    customer_ids: Sequence[int] | None = None,
    batch: int = 2000,
) -> int:
    """Hand ``from_user``'s customers (all, or those in ``customer_ids``) to others, evenly in turn.

    Their open follow-up tasks go with them. Each customer's history records
    the owner change. Returns how many customers changed owner.
    """
    targets = _takers(organization, from_user, to_user_ids)
    if not targets:
        raise ValidationError({"to": [errors.REASSIGN_TARGET_REQUIRED]})
    owned = Customer.objects.for_org(organization).filter(owner=from_user)
    if customer_ids is not None:
        # Each customer named is an active file of the organization (not necessarily theirs).
        wanted = set(customer_ids)
        if len(wanted) != Customer.objects.for_org(organization).active().filter(pk__in=wanted).count():
            raise ValidationError({"customer_ids": [customer_errors.CUSTOMER_NOT_FOUND]})
        owned = owned.filter(pk__in=wanted)
    moved = 0
    with transaction.atomic():
        ids = list(owned.select_for_update().order_by("pk").values_list("pk", flat=True))
        now = timezone.now()
        actor = by if by is not None and by.pk else None
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            by_target: dict[int, list[int]] = {}
            for i, pk in enumerate(chunk, start=start):
                by_target.setdefault(targets[i % len(targets)].pk, []).append(pk)
            entries = []
            for target in targets:
                pks = by_target.get(target.pk, [])
                if not pks:
                    continue
                Customer.objects.for_org(organization).filter(pk__in=pks).update(owner=target, updated_at=now)
                FollowUpTask.objects.for_org(organization).filter(
                    customer_id__in=pks, assignee=from_user, closed_at=None
                ).update(assignee=target)
                entries += [
                    ChangeEntry(
                        organization=organization,
                        subject_type="customer",
                        subject_id=pk,
                        customer_id=pk,
                        action=ChangeEntry.Action.OWNER_CHANGED,
                        changes={"owner": [str(from_user), str(target)]},
                        actor=actor,
                        at=now,
                    )
                    for pk in pks
                ]
            ChangeEntry.objects.bulk_create(entries)
            events.customers_reassigned.send(
                sender=Customer,
                organization_id=organization.pk,
                customer_ids=chunk,
                from_user=from_user,
                to_user_ids=[t.pk for t in targets],
                by=actor,
            )
            moved += len(chunk)
    return moved


def staff_deactivate_refusal(*, user: User, by: User) -> Any:
    """Why ``by`` cannot deactivate ``user`` whoever takes their customers, or None."""
    organization = user.organization
    assert organization is not None
    if user.pk == by.pk:
        return errors.DEACTIVATE_SELF
    if user.role == Role.OWNER:
        owners = User.objects.for_org(organization).filter(role=Role.OWNER, is_active=True).exclude(pk=user.pk)
        if not owners.exists():
            return errors.DEACTIVATE_LAST_OWNER
    return None


def staff_deactivate(*, user: User, to_user_ids: Sequence[int], by: User) -> int:
    """A staff member leaves: their customers go to others, then they can no longer sign in.

    Only someone who manages staff deactivates (``RoleRefused`` otherwise). Those named in
    ``to_user_ids`` must be active colleagues even when the leaver owns nobody. Returns how
    many customers were handed over.
    """
    organization = user.organization
    assert organization is not None
    refusal = staff_deactivate_refusal(user=user, by=by)
    if refusal is not None:
        raise ValidationError({"user": [refusal]})
    if not by.has_role_perm(Perm.MANAGE_STAFF):
        raise RoleRefused(errors.DEACTIVATE_NOT_YOURS, "deactivate")
    _takers(organization, user, to_user_ids)
    with transaction.atomic():
        moved = 0
        if Customer.objects.for_org(organization).filter(owner=user).exists():
            moved = customers_reassign(organization=organization, from_user=user, to_user_ids=to_user_ids, by=by)
        # Tasks on customers owned by someone else (a next step a colleague set) go to that owner.
        for task in (
            FollowUpTask.objects.for_org(organization).filter(assignee=user, closed_at=None).select_related("customer")
        ):
            task.assignee_id = task.customer.owner_id
            task.save(update_fields=["assignee"])
        user.is_active = False
        user.save(update_fields=["is_active"])
        for rotation in ProspectRotation.objects.filter(organization=organization):
            rotation.members.remove(user)
    return moved


def staff_hand_over(
    *,
    user: User,
    to_user_ids: Sequence[int],
    by: User,
    customer_ids: Sequence[int] | None = None,
    leaving: bool = False,
) -> int:
    """Hand ``user``'s customers (all, or those in ``customer_ids``) to others; ``leaving``, all of
    them, and ``user`` is deactivated (``staff_deactivate``). Returns how many changed owner."""
    organization = user.organization
    assert organization is not None
    if leaving:
        if customer_ids is not None:
            # No customer may stay with someone who can no longer sign in.
            raise ValidationError({"customer_ids": [errors.REASSIGN_ALL_ON_LEAVING]})
        return staff_deactivate(user=user, to_user_ids=to_user_ids, by=by)
    return customers_reassign(
        organization=organization, from_user=user, to_user_ids=to_user_ids, by=by, customer_ids=customer_ids
    )
