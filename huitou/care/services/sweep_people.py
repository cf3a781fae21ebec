"""The care the sweep owes people rather than cars: birthdays, festivals, declined work, win-back.

Each kind reads what falls due in a few indexed queries and yields task rows
for ``sweep._write``; a task's key names its subject and period, so a second
run for the same day adds nothing:

- **birthday** — customers (not prospects, not lost) whose birthday, solar or
  lunar (``lib.birthdays``), falls within the rule's days ahead; a missed
  night is caught up for ``BIRTHDAY_CATCH_UP`` days, later greetings are not
  made. Key ``birthday:<customer>:<date>``.
- **festival** — members, for each festival (``lib.festivals``) within the
  days ahead, with its statutory days off in the reason. Key
  ``festival:<code>:<year>:<customer>``.
- **declined_work** — a recommendation the customer declined, the rule's days
  after (``lead_days`` counts days *after* for this kind), for the order's
  advisor by default. Key ``declined_work:<recommendation>``.
- **winback** — a dormant customer, once per dormancy (its last visit). Key
  ``winback:<customer>:<last visit date>``.

Each kind reaches only the customers of its rule's grades and tags
(``audience.audience_q``), filtered in the same select.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from lunar_python import Solar

from huitou.care.models import CareKind, CareTask
from huitou.care.services.audience import audience_q
from huitou.care.services.rules import RuleSettings, owner_for
from huitou.care.services.wording import day_words as _day
from huitou.care.services.wording import fill as _fill
from huitou.customers.models import Customer, Stage
from huitou.lib.birthdays import falling_between
from huitou.lib.festivals import festivals_between
from huitou.service.models import Recommendation
from huitou.tenancy.models import Organization

BATCH = 1000
BIRTHDAY_CATCH_UP = 3
DECLINED_CATCH_UP = 60
BIRTHDAY_STAGES = (Stage.CUSTOMER, Stage.MEMBER, Stage.DORMANT)
FESTIVAL_STAGES = (Stage.MEMBER,)


def _lunar_words(day: dt.date) -> str:
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return f"{lunar.getMonthInChinese()}月{lunar.getDayInChinese()}"


def birthdays(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    window = falling_between(day - dt.timedelta(days=BIRTHDAY_CATCH_UP), day + dt.timedelta(days=rule.lead_days))
    if not window:
        return
    falls_on: dict[tuple[str, int | None, int | None], dt.date] = {(c, m, d): on for c, m, d, on in window}
    match = Q()
    for cal, month, d, _on in window:
        match |= Q(birthday_calendar=cal, birth_month=month, birth_day=d)
    taken = set(
        CareTask.objects.for_org(org)
        .filter(kind=CareKind.BIRTHDAY, due_on__gte=window[0][3], due_on__lte=window[-1][3])
        .values_list("key", flat=True)
    )
    people = (
        Customer.objects.for_org(org)
        .filter(match, audience_q(rule, org.pk, "pk"), deleted_at__isnull=True, stage__in=BIRTHDAY_STAGES)
        .values_list("id", "name", "owner_id", "birthday_calendar", "birth_month", "birth_day")
    )
    for pk, name, owner_id, calendar, birth_month, birth_day in people.iterator(chunk_size=BATCH):
        on = falls_on[(calendar, birth_month, birth_day)]
        key = f"birthday:{pk}:{on.isoformat()}"
        if key in taken:
            continue
        if calendar == "lunar":
            reason = _("Birthday on %(due)s (lunar %(lunar)s)") % {"due": _day(on), "lunar": _lunar_words(on)}
        else:
            reason = _("Birthday on %(due)s") % {"due": _day(on)}
        yield {
            "kind": CareKind.BIRTHDAY,
            "key": key,
            "customer_id": pk,
            "vehicle_id": None,
            "service_id": None,
            "owner_id": owner_for(rule, customer_owner_id=owner_id),
            "due_on": on,
            "reason": reason,
            "script": _fill(rule.script, name=name, due_date=_day(on), shop=org.name),
        }


def festivals(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    for festival in festivals_between(day, day + dt.timedelta(days=rule.lead_days)):
        prefix = f"festival:{festival.code}:{festival.day.year}:"
        key = Concat(Value(prefix), Cast("id", CharField()), output_field=CharField())
        taken = CareTask.objects.filter(organization_id=org.pk, kind=CareKind.FESTIVAL, due_on=festival.day)
        people = (
            Customer.objects.for_org(org)
            .filter(audience_q(rule, org.pk, "pk"), deleted_at__isnull=True, stage__in=FESTIVAL_STAGES)
            .annotate(task_key=key)
            .exclude(pk__in=_customers_with(taken, prefix))
        )
        if festival.off_from and festival.off_to:
            reason = _("%(festival)s on %(due)s, days off %(start)s to %(end)s") % {
                "festival": festival.name,
                "due": _day(festival.day),
                "start": _day(festival.off_from),
                "end": _day(festival.off_to),
            }
        else:
            reason = _("%(festival)s on %(due)s") % {"festival": festival.name, "due": _day(festival.day)}
        for row in people.values("id", "name", "owner_id", "task_key").iterator(chunk_size=BATCH):
            yield {
                "kind": CareKind.FESTIVAL,
                "key": row["task_key"],
                "customer_id": row["id"],
                "vehicle_id": None,
                "service_id": None,
                "owner_id": owner_for(rule, customer_owner_id=row["owner_id"]),
                "due_on": festival.day,
                "reason": reason,
                "script": _fill(
                    rule.script, name=row["name"], festival=festival.name, due_date=_day(festival.day), shop=org.name
                ),
            }


def _customers_with(tasks: Any, prefix: str) -> Any:
    """The customers who already have a task of ``tasks`` keyed ``prefix<customer>``."""
    return tasks.filter(key__startswith=prefix).values("customer_id")


def declined_work(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    tz = timezone.get_current_timezone()
    after = dt.timedelta(days=rule.lead_days)

    def start_of(on: dt.date) -> dt.datetime:
        return dt.datetime.combine(on, dt.time.min, tzinfo=tz)

    declined = Recommendation.objects.for_org(org).filter(
        audience_q(rule, org.pk),
        status=Recommendation.Status.DECLINED,
        decided_at__gte=start_of(day - after - dt.timedelta(days=DECLINED_CATCH_UP)),
        decided_at__lt=start_of(day - after + dt.timedelta(days=1)),
        customer__deleted_at__isnull=True,
        vehicle__deleted_at__isnull=True,
    )
    taken = set(
        CareTask.objects.for_org(org)
        .filter(kind=CareKind.DECLINED_WORK, due_on__gte=day - dt.timedelta(days=DECLINED_CATCH_UP))
        .values_list("key", flat=True)
    )
    rows = declined.values(
        "id",
        "description",
        "decided_at",
        "customer_id",
        "customer__name",
        "customer__owner_id",
        "vehicle_id",
        "vehicle__plate",
        "service_id",
        "order_id",
        "order__advisor_id",
    )
    for row in rows.iterator(chunk_size=BATCH):
        key = f"declined_work:{row['id']}"
        if key in taken:
            continue
        decided = timezone.localdate(row["decided_at"])
        due_on = decided + after
        yield {
            "kind": CareKind.DECLINED_WORK,
            "key": key,
            "customer_id": row["customer_id"],
            "vehicle_id": row["vehicle_id"],
            "order_id": row["order_id"],
            "service_id": row["service_id"],
            "owner_id": owner_for(
                rule, customer_owner_id=row["customer__owner_id"], advisor_id=row["order__advisor_id"]
            ),
            "due_on": due_on,
            "reason": _("%(plate)s: %(work)s, declined on %(decided)s")
            % {"plate": row["vehicle__plate"], "work": row["description"], "decided": _day(decided)},
            "script": _fill(
                rule.script,
                name=row["customer__name"],
                plate=row["vehicle__plate"],
                service=row["description"],
                due_date=_day(due_on),
                shop=org.name,
            ),
        }


def winback(org: Organization, day: dt.date, rule: RuleSettings) -> Iterator[dict[str, Any]]:
    dormant = Customer.objects.for_org(org).filter(
        audience_q(rule, org.pk, "pk"), deleted_at__isnull=True, stage=Stage.DORMANT, last_visit_at__isnull=False
    )
    taken = set(
        CareTask.objects.for_org(org).filter(kind=CareKind.WINBACK, customer__in=dormant).values_list("key", flat=True)
    )
    for pk, name, owner_id, last_visit in dormant.values_list("id", "name", "owner_id", "last_visit_at").iterator(
        chunk_size=BATCH
    ):
        last = timezone.localdate(last_visit)
        key = f"winback:{pk}:{last.isoformat()}"
        if key in taken:
            continue
        yield {
            "kind": CareKind.WINBACK,
            "key": key,
            "customer_id": pk,
            "vehicle_id": None,
            "service_id": None,
            "owner_id": owner_for(rule, customer_owner_id=owner_id),
            "due_on": day + dt.timedelta(days=rule.lead_days),
            "reason": _("No visit since %(last)s (%(days)s days)") % {"last": _day(last), "days": (day - last).days},
            "script": _fill(rule.script, name=name, shop=org.name),
        }
