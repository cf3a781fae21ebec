from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import QuerySet

from huitou.lib.statements import cached_rows
from huitou.tenancy.models import User


def _user_with_organization(values: Sequence[Any]) -> QuerySet[User]:
    return User.objects.select_related("organization").filter(pk=values[0])


class StaffBackend(ModelBackend):
    """The model backend, loading the organization with the user (one query, a statement kept
    once compiled: every signed-in request makes it; ``huitou.lib.statements``)."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = cached_rows(("tenancy.user_with_organization",), [pk], _user_with_organization)
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None
