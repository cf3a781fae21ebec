from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from huitou.tenancy.models import User


class StaffBackend(ModelBackend):
    """The model backend, loading the organization with the user (one query)."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User.objects.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
