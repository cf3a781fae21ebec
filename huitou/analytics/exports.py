"""A saved segment as an export source: the customer list's columns, rows and masking, the segment's customers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from huitou.analytics.models import Segment
from huitou.analytics.selectors import segment_filter_customers
from huitou.exports.registry import register
from huitou.exports.sources import CustomerListSource, _int
from huitou.tenancy.models import Organization, User
from huitou.tenancy.roles import Perm
from huitou.tenancy.scoping import get_scoped_or_404


class SegmentSource(CustomerListSource):
    """A saved segment's customers (客户分组), as the segment's page lists them."""

    name = "segment"
    title = _("Saved segment")
    perm = Perm.VIEW_CUSTOMERS

    def filters(self, params: Mapping[str, Any], *, organization: Organization, viewer: User) -> dict[str, Any]:
        """``segment`` (of the viewer's organization, or 404 as on its page). The job and the audit log
        keep the segment's name and conditions as they were when it was exported."""
        segment = get_scoped_or_404(Segment.objects.all(), organization, pk=_int(params.get("segment")))
        return {"segment_id": segment.pk, "name": segment.name, "conditions": segment.filters}

    def _customers(self, organization: Organization, filters: Mapping[str, Any]) -> Any:
        return segment_filter_customers(organization=organization, filters=filters["conditions"], with_tags=True)


register(SegmentSource())
