"""Draining 100,000 queued SMS through one huey worker against the local fake provider.

    .venv/bin/python bench/messages_bench.py [--messages 100000] [--database-url URL]

The database is ``--database-url``, else ``$BENCH_MESSAGES_DATABASE_URL``, else
``postgres://postgres@127.0.0.1:5432/huitou_bench_messages`` (created and
migrated when missing). The bench makes one organization with 1,000 customers
who agreed to SMS and ``--messages`` queued SMS of one template (written in
bulk: the queue is what is measured, not how it was filled), starts the fake
Tencent Cloud SMS server (``huitou.messaging.fakes``: it checks every
request's TC3 signature) on 127.0.0.1, and one huey consumer (``run_huey``,
one worker, production settings) pointed at it. It enqueues the
organization's drain and times until every message is sent, printing the rate.
No request leaves the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench_messages"
ORG_NAME = "消息压测"
CUSTOMERS = 1_000


def _ensure_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _fill(count: int) -> int:
    """The organization, its customers and ``count`` queued SMS; its id."""
    from django.db import transaction
    from django.utils import timezone

    from huitou.customers.models import Customer
    from huitou.messaging.models import Channel, Message, MessageTemplate, MessagingSettings, Purpose, State
    from huitou.messaging.services.templates import message_template_save
    from huitou.tenancy.models import Organization, Shop
    from huitou.tenancy.roles import Role
    from huitou.tenancy.scope import unscoped
    from huitou.tenancy.services import organization_create, staff_create

    with unscoped(), transaction.atomic():
        for old in Organization.objects.filter(name=ORG_NAME):
            Message.objects.filter(organization=old).delete()
        org = Organization.objects.filter(name=ORG_NAME).first()
        if org is None:
            org = organization_create(name=ORG_NAME, shop_names=[ORG_NAME])
            owner = staff_create(
                organization=org,
                username=f"msgbench_{secrets.token_hex(4)}",
                password=secrets.token_urlsafe(16),
                role=Role.OWNER,
                display_name="压测店长",
                shops=list(Shop.objects.for_org(org)),
                validate=False,
            )
            Customer.objects.bulk_create(
                Customer(
                    organization=org,
                    name=f"客户{i}",
                    phone=f"+86137{i:08d}",
                    phone_last4=f"{i:08d}"[-4:],
                    consent_sms=True,
                    owner=owner,
                )
                for i in range(CUSTOMERS)
            )
            message_template_save(
                organization=org,
                data={
                    "code": "maintenance",
                    "name": "保养提醒",
                    "purpose": "service",
                    "body": "{name}您好，{service}到期了。",
                }
                | {"sms_template_id": "100101"},
            )
        template = MessageTemplate.objects.for_org(org).get(code="maintenance")
        customers = list(Customer.objects.for_org(org).order_by("pk").values_list("pk", "name", "phone"))
        now = timezone.now() - dt.timedelta(minutes=1)
        batch: list[Message] = []
        for i in range(count):
            pk, name, phone = customers[i % len(customers)]
            batch.append(
                Message(
                    organization=org,
                    customer_id=pk,
                    template=template,
                    channel=Channel.SMS,
                    purpose=Purpose.SERVICE,
                    state=State.QUEUED,
                    to=phone,
                    body=f"{name}您好，小保养到期了。",
                    params=[["name", name], ["service", "小保养"]],
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            if len(batch) == 10_000:
                Message.objects.bulk_create(batch)
                batch = []
        Message.objects.bulk_create(batch)
        MessagingSettings.objects.update_or_create(
            organization=org, defaults={"quiet_start": dt.time(0), "quiet_end": dt.time(0)}
        )
    return org.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_MESSAGES_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="huitou-bench-messages-")
    os.environ["HUITOU_DATA_DIR"] = data_dir
    os.environ.pop("REDIS_URL", None)
    _ensure_database(args.database_url)
    from huitou.messaging.fakes import FakeTencentSms

    fake = FakeTencentSms(record=False).start()
    os.environ.update(fake.env())
    os.environ["NO_PROXY"] = "127.0.0.1"
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    org_id = _fill(args.messages)
    print(f"{args.messages:,} SMS queued for organization {org_id}; fake provider at {fake.endpoint}")

    env = {**os.environ, "HUEY_WORKERS": "1", "HUEY_IMMEDIATE": "0"}
    consumer = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, str(REPO / "manage.py"), "run_huey", "--workers", "1", "--worker-type", "thread"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    from huitou.messaging.models import Message, State
    from huitou.messaging.tasks import drain_for

    try:
        time.sleep(2)  # the consumer is up
        start = time.perf_counter()
        drain_for(org_id)
        sent = 0
        while time.perf_counter() - start < args.timeout:
            sent = Message.objects.for_org(org_id).filter(state=State.SENT).count()
            if sent >= args.messages:
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - start
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
        fake.stop()
    left = Message.objects.for_org(org_id).exclude(state=State.SENT).count()
    print(f"machine: {machine()}")
    print(
        f"drained {sent:,} SMS in {elapsed:.1f} s by one huey worker: {sent / elapsed:,.0f} messages/s "
        f"({left:,} not sent; fake provider answered {fake.sent:,})"
    )


if __name__ == "__main__":
    main()
