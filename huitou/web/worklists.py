"""What the work lists (follow-ups, care) share: whose list a request asks for."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from huitou.tenancy.http import StaffRequest
from huitou.tenancy.models import User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404


def work_list_owner(request: StaffRequest) -> User:
    """Whose list: one's own, or (store manager only) the staff member of ``?owner=``."""
    wanted = request.GET.get("owner", "")
    if not wanted or wanted == str(request.user.pk):
        return request.user
    if not request.user.has_role_perm(Perm.VIEW_TEAM_FOLLOWUPS):
        raise PermissionDenied
    return get_scoped_or_404(User.objects.all(), request.organization, pk=wanted)
