"""An erased file stays erased: restoring it is refused (the restore rolls back)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from huitou.customers import events
from huitou.customers.models import Customer
from huitou.privacy import errors
from huitou.privacy.models import Erasure


def refuse_restoring_an_erased_file(sender: type[Customer], customer: Customer, **kwargs: Any) -> None:
    if Erasure.objects.for_org(customer.organization_id).filter(customer_id=customer.pk).exists():
        raise ValidationError(errors.ERASED_NO_RESTORE)


events.customer_restored.connect(refuse_restoring_an_erased_file, dispatch_uid="privacy.erased_stays_erased")
