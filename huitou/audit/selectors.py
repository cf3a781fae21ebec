from __future__ import annotations

from django.db.models import QuerySet

from huitou.audit.models import ChangeEntry
from huitou.lib.statements import tenant_rows


def history_for_customer(*, organization_id: int, customer_id: int, limit: int | None = 50) -> QuerySet[ChangeEntry]:
    """Everything recorded about a customer: the file, vehicles, consents, orders (newest first)."""
    entries = (
        ChangeEntry.objects.for_org(organization_id)
        .filter(customer_id=customer_id)
        .select_related("actor")
        .order_by("-at", "-pk")
    )
    return entries[:limit] if limit is not None else entries


def history_for_subject(*, organization_id: int, subject_type: str, subject_id: int) -> QuerySet[ChangeEntry]:
    return (
        ChangeEntry.objects.for_org(organization_id)
        .filter(subject_type=subject_type, subject_id=subject_id)
        .select_related("actor")
        .order_by("-at", "-pk")
    )


def subject_history(*, organization_id: int, subject_type: str, subject_id: int) -> list[ChangeEntry]:
    """``history_for_subject`` as a list, from a statement kept per kind of subject
    (``huitou.lib.statements``; the organization and the subject are its values): an order's page reads it."""

    def build(org_id: int, pk: int) -> QuerySet[ChangeEntry]:
        return history_for_subject(organization_id=org_id, subject_type=subject_type, subject_id=pk)

    return tenant_rows(("audit.subject_history", subject_type), organization_id, subject_id, build)
