"""What messaging keeps about a person, for the copy and for erasure (docs/privacy.md).

The copy holds every message to the person: channel, purpose, what became of
it and why, the address it went to, its text and the values filled into it.
Erasure keeps each message as counted work (channel, purpose, state, reason,
moments: the weekly cap and the outbox's figures) and drops what is personal:
the text, the subject, the address, the filled-in values and the provider's
answer. A message still waiting is refused as to a deleted file, so nothing
goes out to an erased customer.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from huitou.messaging.models import Message, Reason, State
from huitou.privacy.registry import REDACTED, Person, PersonalDataKind, register, rows_of

FIELDS = (
    *("id", "customer_id", "channel", "purpose", "state", "reason", "to", "subject", "body", "params"),
    *("template__name", "created_at", "sent_at"),
)


def _messages(person: Person) -> Any:
    return Message.objects.for_org(person.organization_id).filter(customer_id__in=person.customer_ids)


def collect_messages(person: Person) -> list[dict[str, Any]]:
    return rows_of(_messages(person).order_by("created_at", "pk"), FIELDS)


def erase_messages(person: Person) -> None:
    messages = _messages(person)
    messages.filter(state__in=[State.QUEUED, State.HELD]).update(
        state=State.REFUSED, reason=Reason.CUSTOMER_DELETED, next_attempt_at=None
    )
    messages.update(body=REDACTED, subject="", to="", params=[], detail="", provider_ref="")


register(PersonalDataKind("messages", _("Messages"), collect_messages, erase_messages, order=80))
