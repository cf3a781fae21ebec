from __future__ import annotations

from django.db.models import QuerySet

from huitou.audit.models import ChangeEntry


def history_for_customer(*, organization_id: int, customer_id: int, limit: int = 50) -> QuerySet[ChangeEntry]:
    """The customer's timeline: the file, its vehicles, consents (newest first)."""
    return (
        ChangeEntry.objects.for_org(organization_id)
        .filter(customer_id=customer_id)
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


def history_for_subject(*, organization_id: int, subject_type: str, subject_id: int) -> QuerySet[ChangeEntry]:
    return (
        ChangeEntry.objects.for_org(organization_id)
        .filter(subject_type=subject_type, subject_id=subject_id)
        .select_related("actor")
        .order_by("-at", "-pk")
    )
