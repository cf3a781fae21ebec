"""Reads of API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from huitou.api.models import ApiToken, hash_token
from huitou.tenancy.models import User


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A user's tokens, newest first, revoked ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def tokens_matching(*, ref: str) -> QuerySet[ApiToken]:
    """Active tokens a reference points at: the hint ``huitou token list`` shows, or the raw token."""
    active = ApiToken.objects.filter(revoked_at__isnull=True).select_related("user")
    if len(ref) > 8:
        return active.filter(key_hash=hash_token(ref))
    return active.filter(hint=ref)
