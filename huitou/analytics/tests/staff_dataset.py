"""A hand-built month of staff work whose figures are worked out by hand (not collected: no ``test_`` prefix).

The period is March 2025 (``DATE_FROM``..``DATE_TO``), local time (Asia/Shanghai).
Staff: 王店长 (owner), 李顾问 (advisor), 赵客服 (service, works at the second shop
only), 孙离职 (an advisor who has left, first shop only), 钱已走 (left, nothing in
March), the technician (nothing), and the other organization's 隔壁老板.

Files (owner now; first paid order = ``converted_at``; completeness)::

    C1  advisor  2025-01-10           100    an existing customer
    C2  service  2024-12-01            80    an existing customer
    P1  advisor  03-10 10:00           40    converted in March
    P2  advisor  03-12 10:00           60    service's prospect, handed to advisor, then converted
    P3  service  -                     25    a prospect
    X1  advisor  04-01 00:00 (after)    0
    D1  service  03-15 (deleted file)  90    never counts

Follow-up tasks (due → closed)::

    T1 advisor  due 03-05, done 03-05 23:59   on time (the last minute of the day due)
    T2 advisor  due 03-05, done 03-06 00:00   late (the first minute after)
    T3 advisor  due 03-10, cancelled 03-10    not work done
    T4 advisor  due 02-27, done 02-28 23:59   before March
    T5 advisor  due 03-31, done 04-01 00:00   after March
    T6 service  due 03-20, done 03-25         late
    T7 孙离职    due 03-02, done 03-02         on time
    TO outsider due 03-05, done 03-05         the other organization

Follow-ups recorded (existing customer: converted before the contact)::

    F1 advisor  C1 03-05 23:59   existing
    F2 advisor  P1 03-06 00:00   not yet (P1 converts on 03-10)
    F3 advisor  P1 03-15 09:00   existing
    F4 service  C2 03-20 10:00   existing
    F5 service  P3 03-21 10:00   a prospect
    F6 owner    C2 02-28 23:59   before March

Care tasks (owner; closed)::

    K1 advisor  callback    C1 due 03-03 10:00, done 03-03 09:00, score 5   on time
    K2 advisor  callback    C1 due 03-04 10:00, done 03-04 10:01, score 3   late (48-hour deadline)
    K3 advisor  maintenance C1 due 03-08, skipped 03-08                     skipped
    K4 advisor  birthday    P1 due 03-09, done 03-09 15:00                  on time, P1 not yet converted
    K5 service  callback    C2 due 03-20 12:00, done 03-19, no score        on time, unscored
    K6 owner    callback    C2 due 02-27, done 02-28 23:00, score 1         before March

Complaints (opened; handled by the store manager)::

    Q1 against C1 (advisor's)  03-20   counts for advisor, not for the handler
    Q2 against C2 (service's)  02-28 23:59   before March
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from huitou.analytics.staff_facts import staff_facts_rebuild
from huitou.care.models import CareKind, CareTask, Complaint, ComplaintSource
from huitou.customers.models import Customer
from huitou.customers.services import customer_delete
from huitou.lifecycle.models import FollowUp, FollowUpTask, TaskOrigin
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import staff_create
from huitou.testing.fixtures import PASSWORD

DATE_FROM = dt.date(2025, 3, 1)
DATE_TO = dt.date(2025, 3, 31)
# Every day the month's data touches (C2 converted on 2024-12-01, X1 on 04-01).
FIRST_DAY = dt.date(2024, 12, 1)
LAST_DAY = dt.date(2025, 4, 30)


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2025) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


@dataclass(frozen=True)
class Expected:
    followups_done: int
    followups_late: int
    care_done: int
    care_late: int
    care_skipped: int
    callbacks_done: int
    old_customer_contacts: int
    conversions: int
    satisfaction: float | None
    complaints: int
    file_completeness: float | None
    files: int


# By username, in the default order (most conversions first, then by name in pinyin: sun, wang, zhao).
MARCH = {
    # T1, T2 (late); K1, K2 (late), K4, K3 skipped; F1 + F3 + K1 + K2; P1, P2; (5 + 3) / 2; Q1; (40+60+100+0)/4
    "advisor": Expected(2, 1, 3, 1, 1, 2, 4, 2, 4.0, 1, 0.5, 4),
    "left": Expected(1, 0, 0, 0, 0, 0, 0, 0, None, 0, None, 0),  # T7: listed for it, though gone
    "owner": Expected(0, 0, 0, 0, 0, 0, 0, 0, None, 0, None, 0),  # Q1's handler: handling is not a fault
    # T6 (late); K5 unscored; F4 + K5; (80 + 25) / 2
    "service": Expected(1, 1, 1, 0, 0, 1, 2, 0, None, 0, 0.525, 2),
}
MARCH_ORDER = ["advisor", "left", "owner", "service"]


@dataclass
class StaffData:
    staff: dict[str, User]
    customers: dict[str, Customer]
    shops: list[Shop]


def build(
    *,
    org: Organization,
    staff: dict[str, User],
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Customer],
) -> StaffData:
    """The month above; ``staff`` holds ``owner``, ``advisor``, ``service`` and ``tech``."""
    owner, advisor, service = staff["owner"], staff["advisor"], staff["service"]
    shops = list(Shop.objects.for_org(org).order_by("pk"))
    service.shops.set([shops[1]])
    left = staff_create(
        organization=org,
        username="left",
        password=PASSWORD,
        role=Role.ADVISOR,
        display_name="孙离职",
        shops=[shops[0]],
        validate=False,
    )
    gone = staff_create(
        organization=org, username="gone", password=PASSWORD, role=Role.SERVICE, display_name="钱已走", validate=False
    )
    User.objects.filter(pk__in=[left.pk, gone.pk]).update(is_active=False)
    left.refresh_from_db()

    files = {
        # name: owner at creation, owner now, converted, completeness
        "C1": (advisor, advisor, at(1, 10), 100),
        "C2": (service, service, at(12, 1, year=2024), 80),
        "P1": (advisor, advisor, at(3, 10, 10), 40),
        "P2": (service, advisor, at(3, 12, 10), 60),
        "P3": (service, service, None, 25),
        "X1": (advisor, advisor, at(4, 1), 0),
        "D1": (service, service, at(3, 15), 90),
    }
    customers: dict[str, Customer] = {}
    for name, (first, now_owner, converted, completeness) in files.items():
        c = make_customer(by=first, name=name)
        Customer.objects.for_org(org).filter(pk=c.pk).update(
            owner=now_owner, converted_at=converted, completeness=completeness
        )
        customers[name] = c
    customer_delete(customer=customers["D1"], by=owner)
    for name in customers:
        customers[name] = Customer.objects.for_org(org).get(pk=customers[name].pk)
    c1, c2, p1 = customers["C1"], customers["C2"], customers["P1"]

    def task(who: User, customer: Customer, due: dt.date, closed: dt.datetime, closed_as: str = "done") -> None:
        FollowUpTask.objects.create(
            organization=org,
            customer=customer,
            assignee=who,
            due_on=due,
            action="回访",
            origin=TaskOrigin.NEXT_STEP,
            created_at=closed - dt.timedelta(days=10),
            closed_at=closed,
            closed_as=closed_as,
        )

    task(advisor, c1, dt.date(2025, 3, 5), at(3, 5, 23, 59))  # T1
    task(advisor, c1, dt.date(2025, 3, 5), at(3, 6))  # T2
    task(advisor, p1, dt.date(2025, 3, 10), at(3, 10, 9), FollowUpTask.Closed.CANCELLED)  # T3
    task(advisor, c1, dt.date(2025, 2, 27), at(2, 28, 23, 59))  # T4
    task(advisor, c1, dt.date(2025, 3, 31), at(4, 1))  # T5
    task(service, c2, dt.date(2025, 3, 20), at(3, 25, 11))  # T6
    task(left, c1, dt.date(2025, 3, 2), at(3, 2, 16))  # T7

    def followup(who: User, customer: Customer, when: dt.datetime) -> None:
        FollowUp.objects.create(
            organization=org, customer=customer, staff=who, channel="phone", content="问候", at=when
        )

    followup(advisor, c1, at(3, 5, 23, 59))  # F1
    followup(advisor, p1, at(3, 6))  # F2
    followup(advisor, p1, at(3, 15, 9))  # F3
    followup(service, c2, at(3, 20, 10))  # F4
    followup(service, customers["P3"], at(3, 21, 10))  # F5
    followup(owner, c2, at(2, 28, 23, 59))  # F6

    def care(
        key: str,
        who: User,
        kind: str,
        customer: Customer,
        closed: dt.datetime,
        *,
        due_on: dt.date,
        due_at: dt.datetime | None = None,
        state: str = CareTask.State.DONE,
        score: int | None = None,
    ) -> None:
        CareTask.objects.create(
            organization=org,
            kind=kind,
            key=key,
            customer=customer,
            owner=who,
            due_on=due_on,
            due_at=due_at,
            reason="关怀",
            state=state,
            result="已联系",
            score=score,
            created_at=closed - dt.timedelta(days=3),
            closed_at=closed,
            closed_by=who,
        )

    cb = CareKind.CALLBACK
    care("K1", advisor, cb, c1, at(3, 3, 9), due_on=dt.date(2025, 3, 3), due_at=at(3, 3, 10), score=5)
    care("K2", advisor, cb, c1, at(3, 4, 10, 1), due_on=dt.date(2025, 3, 4), due_at=at(3, 4, 10), score=3)
    care(
        "K3", advisor, CareKind.MAINTENANCE, c1, at(3, 8, 11), due_on=dt.date(2025, 3, 8), state=CareTask.State.SKIPPED
    )
    care("K4", advisor, CareKind.BIRTHDAY, p1, at(3, 9, 15), due_on=dt.date(2025, 3, 9))
    care("K5", service, cb, c2, at(3, 19, 16), due_on=dt.date(2025, 3, 20), due_at=at(3, 20, 12))
    care("K6", owner, cb, c2, at(2, 28, 23), due_on=dt.date(2025, 2, 27), due_at=at(2, 27, 12), score=1)

    def complaint(customer: Customer, opened: dt.datetime) -> None:
        Complaint.objects.create(
            organization=org,
            customer=customer,
            source=ComplaintSource.MANUAL,
            summary="等太久",
            owner=owner,
            opened_at=opened,
            opened_by=owner,
        )

    complaint(c1, at(3, 20, 14))  # Q1
    complaint(c2, at(2, 28, 23, 59))  # Q2

    # The other organization: a task done in March by its store manager, a file converted in March.
    theirs = make_customer(organization=other_org, by=outsider, name="隔壁客户")
    Customer.objects.for_org(other_org).filter(pk=theirs.pk).update(converted_at=at(3, 5), completeness=100)
    FollowUpTask.objects.create(
        organization=other_org,
        customer=theirs,
        assignee=outsider,
        due_on=dt.date(2025, 3, 5),
        action="回访",
        origin=TaskOrigin.NEXT_STEP,
        created_at=at(3, 1),
        closed_at=at(3, 5, 12),
        closed_as=FollowUpTask.Closed.DONE,
    )
    # Written around the services (nothing marked): the kept figures are computed as a rebuild does.
    for organization in (org, other_org):
        staff_facts_rebuild(organization.pk, date_from=FIRST_DAY, date_to=LAST_DAY)
    return StaffData(staff={**staff, "left": left, "gone": gone}, customers=customers, shops=shops)


@pytest.fixture
def staff_data(
    org: Organization,
    owner: User,
    advisor: User,
    service: User,
    tech: User,
    other_org: Organization,
    outsider: User,
    make_customer: Callable[..., Any],
) -> StaffData:
    """The data set above, built for a test."""
    return build(
        org=org,
        staff={"owner": owner, "advisor": advisor, "service": service, "tech": tech},
        other_org=other_org,
        outsider=outsider,
        make_customer=make_customer,
    )


def check(rows: list[Any], expected: dict[str, Expected]) -> None:
    """Every figure of every row, in order."""
    assert [r.user.username for r in rows] == list(expected)
    for row, (username, want) in zip(rows, expected.items(), strict=True):
        got = Expected(
            row.followups_done,
            row.followups_late,
            row.care_done,
            row.care_late,
            row.care_skipped,
            row.callbacks_done,
            row.old_customer_contacts,
            row.conversions,
            row.satisfaction,
            row.complaints,
            row.file_completeness,
            row.files,
        )
        assert got == want, username
