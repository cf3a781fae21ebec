from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from huitou.api.models import ApiToken, hash_token, new_raw_token
from huitou.lib.statements import cached_rows
from huitou.tenancy.models import User


def token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    raw = new_raw_token()
    token = ApiToken.objects.create(user=user, name=name[:50], key_hash=hash_token(raw), hint=raw[:8])
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def token_authenticate(raw: str) -> User | None:
    """The active staff user behind a bearer token, or None."""
    if not raw:
        return None
    # Every API request asks this: its statement is compiled once (lib.statements).
    found = cached_rows(("api_token",), [hash_token(raw)], _live_tokens)
    token = found[0] if found else None
    if token is None or not token.user.is_active or token.user.organization_id is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _live_tokens(hashes: Sequence[str]) -> QuerySet[ApiToken]:
    # The hash is unique: a slice, not first(), which would sort the one row.
    return ApiToken.objects.select_related("user__organization").filter(key_hash=hashes[0], revoked_at__isnull=True)[:1]
