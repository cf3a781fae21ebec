"""The rules every send passes: consent for the channel and purpose, quiet hours, the weekly cap.

Each rule exists once for one customer (``message_send``) and once as a
condition on many rows (bulk sends, the drain), side by side here so the two
cannot drift apart.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from huitou.customers.models import ConsentRecord, Customer
from huitou.messaging.models import Channel, Message, MessagingSettings, Purpose, Reason, State

# The customer file's consent flag each channel needs: a message copied by hand goes out on WeChat.
CONSENT_CHANNEL: dict[str, str] = {Channel.MANUAL: "wechat", Channel.SMS: "sms", Channel.EMAIL: "email"}
CAP_WINDOW = dt.timedelta(days=7)
# Marketing messages that count towards the cap: those on their way and those gone.
CAP_STATES = (State.QUEUED, State.HELD, State.SENT)


# --- consent -----------------------------------------------------------------------------------


def consent_reason(*, customer: Customer, channel: str, purpose: str, withdrawn: bool | None = None) -> str:
    """Why consent forbids this send ('' when it allows it).

    Marketing needs the customer's consent for the channel (广告法 art. 43: no
    advertising by electronic message without consent). A service message
    about their own car or visit goes unless the customer withdrew consent for
    that channel (the ledger holds a record and the flag is off). ``withdrawn``:
    whether the ledger holds a record for the channel, when already read.
    """
    consent = CONSENT_CHANNEL[channel]
    if getattr(customer, f"consent_{consent}"):
        return ""
    if purpose == Purpose.MARKETING:
        return Reason.CONSENT_MISSING
    if withdrawn is None:
        withdrawn = (
            ConsentRecord.objects.for_org(customer.organization_id).filter(customer=customer, channel=consent).exists()
        )
    return Reason.CONSENT_WITHDRAWN if withdrawn else ""


def consent_refusals(*, channel: str, purpose: str, on_message: bool = False) -> dict[str, Q]:
    """The same rule as conditions, ``{reason: condition}``: a row matching one is refused for that reason.

    The conditions are on customers, or on messages (``on_message``: through their customer).
    """
    consent = CONSENT_CHANNEL[channel]
    flag_off = Q(**{f"{'customer__' if on_message else ''}consent_{consent}": False})
    if purpose == Purpose.MARKETING:
        return {Reason.CONSENT_MISSING: flag_off}
    on_record = Exists(
        ConsentRecord.objects.filter(
            organization_id=OuterRef("organization_id"),
            customer_id=OuterRef("customer_id" if on_message else "pk"),
            channel=consent,
        )
    )
    return {Reason.CONSENT_WITHDRAWN: flag_off & Q(on_record)}


# --- quiet hours -------------------------------------------------------------------------------


def quiet_until(moment: dt.datetime, settings: MessagingSettings) -> dt.datetime | None:
    """When the quiet hours around ``moment`` end (China time), or None outside them.

    Quiet hours from 21:00 to 09:00 run over midnight; start equal to end means none.
    """
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return None
    local = timezone.localtime(moment)
    now = local.time()
    if start < end:
        inside = start <= now < end
        day = local.date()
    else:
        inside = now >= start or now < end
        day = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return timezone.make_aware(dt.datetime.combine(day, end), timezone.get_current_timezone())


# --- the weekly cap ----------------------------------------------------------------------------


def marketing_this_week(*, customer: Customer, now: dt.datetime) -> int:
    """Marketing messages to the customer created in the 7 days before ``now``, refused and failed aside."""
    return (
        Message.objects.for_org(customer.organization_id)
        .filter(customer=customer, purpose=Purpose.MARKETING, state__in=CAP_STATES, created_at__gt=now - CAP_WINDOW)
        .count()
    )


def marketing_counts(*, organization_id: int, customer_ids: list[int], now: dt.datetime) -> dict[int, int]:
    """The same count for many customers in one grouped query."""
    from django.db.models import Count

    rows = (
        Message.objects.for_org(organization_id)
        .filter(
            customer_id__in=customer_ids,
            purpose=Purpose.MARKETING,
            state__in=CAP_STATES,
            created_at__gt=now - CAP_WINDOW,
        )
        .values("customer_id")
        .annotate(n=Count("pk"))
    )
    return {r["customer_id"]: r["n"] for r in rows}


# --- where it goes -----------------------------------------------------------------------------


def is_mobile(phone: str) -> bool:
    """A mainland mobile number in E.164 (+86 1xx xxxx xxxx): what an SMS can reach."""
    return len(phone) == 14 and phone.startswith("+861") and phone[1:].isdigit()


def address_of(*, customer: Customer, channel: str) -> tuple[str, str]:
    """(where the message goes, the reason it cannot go: '' when it can)."""
    if channel == Channel.SMS:
        return (customer.phone, "") if is_mobile(customer.phone) else ("", Reason.NO_PHONE)
    if channel == Channel.EMAIL:
        return (customer.email, "") if customer.email else ("", Reason.NO_EMAIL)
    # By hand: staff reach the customer on WeChat (their ID, else the phone they registered with).
    return customer.wechat or customer.phone, ""
