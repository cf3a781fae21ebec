"""Simultaneous stored-value payments against ``huitou serve`` on its embedded SQLite.

The shop's own setup: a fresh data directory, no DATABASE_URL, the real
command in a child process (waitress, its worker threads, one huey worker).
A member's balance covers exactly ``COVERED`` orders; ``PAYERS`` counters pay
``PAYERS`` orders with stored value at the same moment over the JSON API.
None may answer 500 ("database is locked") or drop the connection: the
balance covers exactly ``COVERED`` of them, the others answer 409 (or 503
with a message saying to try again), and the statement adds up to the
balance of zero.

It runs the same in the SQLite and the PostgreSQL runs of the suite: the
served process never sees the suite's database.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from huitou.web.tests.test_serve_security import REPO, Server, get, huitou, shop_environment, signed_in

PAYERS = 30
COVERED = 10
PRICE = Decimal("110.00")  # 充1000送100 (the starter rule): 1,100 = 10 × 110
PASSWORD = "counter-race-2026"
BUSY = "数据库正忙（另一项修改尚未完成），请稍后重试。"

# Run by ``huitou shell`` on the served data directory: the organization as
# ``huitou createorg`` makes it (starter catalog and membership programme),
# one customer with a car, PAYERS completed orders of ¥110 and an API token.
SETUP = f"""
import json
from django.db import transaction
from huitou.api.services import token_create
from huitou.customers.services import customer_create, vehicle_create
from huitou.loyalty.starter import loyalty_seed
from huitou.service.services.catalog import service_item_save
from huitou.service.services.orders import order_add_line, order_complete, order_open
from huitou.service.starter import catalog_seed
from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Role
from huitou.tenancy.services import organization_create, staff_create

with transaction.atomic():
    org = organization_create(name="顺达汽修", shop_names=["顺达汽修"])
    shop = Shop.objects.for_org(org).get()
    owner = staff_create(organization=org, username="owner", password="{PASSWORD}", role=Role.OWNER,
                         display_name="王店长", shops=[shop], validate=False)
    catalog_seed(organization=org)
    loyalty_seed(organization=org)
    item = service_item_save(organization=org, data={{"code": "RACE", "name": "精洗", "category": "detailing",
                                                     "labour_price": "{PRICE}"}})
    customer = customer_create(organization=org, by=owner, data={{"name": "储值客户", "phone": "13800138000"}})
    waiting = customer_create(organization=org, by=owner, data={{"name": "排队客户", "phone": "13800138001"}})
    car = vehicle_create(customer=customer, by=owner, data={{"plate": "粤B12345"}})
    orders = []
    for _ in range({PAYERS}):
        order = order_open(organization=org, shop=shop, vehicle=car, by=owner)
        order_add_line(order=order, by=owner, service=item)
        orders.append(order_complete(order=order, by=owner).pk)
    _token, raw = token_create(user=owner, name="counters")
print(json.dumps({{"customer": customer.pk, "waiting": waiting.pk, "orders": orders, "token": raw}}))
"""


@dataclass
class Counter:
    data_dir: Path
    server: Server
    token: str
    customer: int
    waiting: int  # another member, for the test that holds the database
    orders: list[int]

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        """One request on its own connection: the status and the decoded JSON (or the raw text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, f"/api/v1{path}", body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read().decode()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw


def shell(data_dir: Path, code: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "huitou.cli", "shell", "-c", code],
        env=shop_environment(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    data_dir = tmp_path_factory.mktemp("counter") / "data"
    migrated = huitou("migrate", "-v0", env=shop_environment(data_dir))
    assert migrated.returncode == 0, migrated.stderr
    made = json.loads(shell(data_dir, SETUP).strip().splitlines()[-1])
    server = Server(data_dir, "serve")
    try:
        yield Counter(
            data_dir=data_dir,
            server=server,
            token=made["token"],
            customer=made["customer"],
            waiting=made["waiting"],
            orders=made["orders"],
        )
    finally:
        server.stop()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=20)


def race(counter: Counter, requests: list[tuple[str, str, Any]]) -> list[tuple[int, Any] | BaseException]:
    """Send the requests from one thread each, released together; a result or the exception raised."""
    barrier = threading.Barrier(len(requests))
    results: list[tuple[int, Any] | BaseException] = [TimeoutError("no answer")] * len(requests)

    def send(index: int, method: str, path: str, body: Any) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = counter.call(method, path, body)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results[index] = exc

    threads = [threading.Thread(target=send, args=(i, *r), daemon=True) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a request is still waiting after 90 s"
    return results


def test_simultaneous_stored_value_payments_never_overdraw_nor_answer_500(counter: Counter) -> None:
    customer = counter.customer
    status, joined = counter.call("POST", f"/customers/{customer}/membership", {"tier": "regular"})
    assert status == 200, joined
    status, topped = counter.call(
        "POST", f"/customers/{customer}/stored-value/top-ups", {"amount": "1000.00", "method": "wechat"}
    )
    assert status == 201, topped
    assert topped["stored_value"]["balance"] == str(PRICE * COVERED), topped

    started = time.monotonic()
    results = race(
        counter,
        [
            ("POST", f"/orders/{order}/payments", {"method": "stored_value", "amount": str(PRICE)})
            for order in counter.orders
        ],
    )
    elapsed = time.monotonic() - started

    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"connections failed: {failures!r}\n{counter.server.output()[-4000:]}"
    answers = [r for r in results if not isinstance(r, BaseException)]
    statuses = sorted(status for status, _ in answers)
    assert 500 not in statuses, f"{statuses}\n{counter.server.output()[-4000:]}"
    assert statuses.count(201) == COVERED, statuses
    refusals = [body for status, body in answers if status != 201]
    assert all(status in (409, 503) for status, _ in answers if status != 201), statuses
    assert all(isinstance(body, dict) and body.get("detail") for body in refusals), refusals
    assert elapsed < 60

    status, membership = counter.call("GET", f"/customers/{customer}/membership")
    assert status == 200
    assert membership["stored_value"] == {"principal": "0.00", "bonus": "0.00", "balance": "0.00"}
    status, statement = counter.call("GET", f"/customers/{customer}/statement?ledger=stored_value&page_size=200")
    assert status == 200
    assert statement["count"] == 1 + COVERED  # the top-up and one spend per paid order
    assert sum(Decimal(item["amount"]) for item in statement["items"]) == Decimal("0.00")
    assert sorted(Decimal(item["amount"]) for item in statement["items"])[:COVERED] == [-PRICE] * COVERED
    paid = [order for order in counter.orders if counter.call("GET", f"/orders/{order}")[1]["state"] == "paid"]
    assert len(paid) == COVERED


@contextmanager
def database_held(data_dir: Path) -> Iterator[None]:
    """Another writer holds SQLite's write lock (a long job, a backup gone wrong) until the block ends."""
    holder = sqlite3.connect(data_dir / "huitou.sqlite3", isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.rollback()
        holder.close()


def until_not_busy(send: Callable[[], tuple[int, Any]], seconds: float = 30) -> tuple[int, Any]:
    """``send()`` again while it answers 503 ("busy, try again"), for up to ``seconds``; the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = send()
        if status != 503 or time.monotonic() > deadline:
            return status, body
        time.sleep(1)


def test_a_write_held_past_the_busy_timeout_answers_503_with_a_message_then_goes_through(counter: Counter) -> None:
    customer = counter.waiting
    top_up = f"/customers/{customer}/stored-value/top-ups"
    opener = signed_in(counter.server, "owner", PASSWORD)
    form_url = f"{counter.server.url}/loyalty/customers/{customer}/top-up/"
    _, form_page, _ = get(form_url, opener)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page)
    assert csrf, form_page
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf.group(1), "amount": "200", "method": "cash"}).encode()

    with database_held(counter.data_dir):
        status, refused = counter.call("POST", top_up, {"amount": "100.00", "method": "wechat"})
        assert status == 503, refused
        assert refused["detail"] == BUSY, refused
        try:
            page = opener.open(form_url, form, timeout=60)
            page_status, body = page.status, page.read().decode()
        except urllib.error.HTTPError as error:
            page_status, body = error.code, error.read().decode()
        assert page_status == 503, body
        assert BUSY in body

    # Free again: the writes go through. The jobs the server queued meanwhile catch up at this moment
    # too, so a write may still be told "busy" once or twice; a counter told to try again does.
    status, topped = until_not_busy(lambda: counter.call("POST", top_up, {"amount": "100.00", "method": "wechat"}))
    assert status == 201, topped

    def send_form() -> tuple[int, str]:
        try:
            with opener.open(form_url, form, timeout=60) as page:
                return page.status, page.url
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    status, landed = until_not_busy(send_form)
    assert status == 200 and "/statement/" in landed, landed
    # Nothing refused was written, nothing retried was written twice: 100 + 200 on the balance.
    status, membership = counter.call("GET", f"/customers/{customer}/membership")
    assert membership["stored_value"]["balance"] == "300.00"
