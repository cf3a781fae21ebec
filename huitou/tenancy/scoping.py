"""Reaching tenant data through the request's organization.

A missing object and another organization's object give the same 404, so
no URL can tell whether an id exists elsewhere.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from huitou.tenancy.models import Organization

M = TypeVar("M", bound=models.Model)


def get_scoped_or_404(queryset: models.QuerySet[M], organization: Organization | int | None, **lookup: Any) -> M:
    if organization is None:
        raise Http404
    org_id = organization if isinstance(organization, int) else organization.pk
    try:
        return queryset.filter(organization_id=org_id).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
