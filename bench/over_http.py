"""Speed as the user feels it: the search API and the counter's pages over HTTP, beside the server-side figure.

    .venv/bin/python bench/over_http.py [--database-url URL | --sqlite-dir DIR] [--samples 200] [--skip-limit]

Starts ``huitou serve`` (production mode: DEBUG off, static files collected,
waitress with its default threads) on the bench organization that
``bench/search.py`` and ``bench/orders.py`` build (1,000,000 customers and
5,000,000 orders in ``huitou_bench``), signs in over HTTP as a user would
(the login form, its CSRF cookie, the session cookie) and makes an API token
for the same user (the service ``huitou token create`` calls). Then, over
one keep-alive connection per user, it times:

* ``GET /api/v1/customers?q=`` with the bearer token, per search key (the
  keys and samples of ``bench/search.py``);
* the customer list page with the same queries (``/customers/?q=``);
* the customer file of the fleets (300 orders each), their latest orders'
  pages, the order list of today and of the busiest day of the first shop;
* "my follow-ups" today and overdue of the front-desk person with the most
  due today, the store manager's backlog by staff, the funnel (90 days).

Beside each it prints the server-side figure, the same work in this process
without HTTP (``customer_list`` as bench/search.py times it; the pages
through Django's test client, every middleware included), and for the
search keys the limit (``../shared/perf/limit_search.py``, unless
``--skip-limit``). ``--sqlite-dir`` runs on the embedded SQLite database of a
data directory instead (build one with ``bench/build_db.py --database-url ''``
and ``HUITOU_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from common import machine, percentile, setup_django

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
DEFAULT_LIMIT = REPO.parent / "shared" / "perf" / "limit_search.py"
BENCH_PASSWORD = "bench-http-2026"  # noqa: S105 - set on the bench database's own users
SEARCH_TARGET_MS = {"postgresql": 10.0, "sqlite": 15.0}
# The list page is timed with a few keys: its own work beyond the search is the same for all.
LIST_PAGE_KEYS = {"full phone", "last 4 phone digits", "pinyin initials", "name prefix (2 characters)"}
PAGE_TARGETS_MS = {"customer file": 50.0, "order page": 30.0, "work list": 30.0}


# --- HTTP ------------------------------------------------------------------------------------------


class Browser:
    """One keep-alive connection with its cookies (a signed-in user) or a bearer token (an integration)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port = port
        self.token = token
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body.encode() if body else None, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.conn.close()  # the server closed an idle connection: open another, as a browser does
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def timed_get(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        status, _body = self.get(path)
        return (time.perf_counter() - started) * 1000, status

    def sign_in(self, username: str, password: str) -> None:
        """The login form as a browser sends it: its CSRF cookie and hidden field, then the session cookie."""
        status, body = self.get("/login/")
        assert status == 200, status
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert match, "no CSRF field on the login page"
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode()})
        status, _ = self.request("POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302 and "sessionid" in self.cookies, f"sign-in as {username} failed ({status})"


# --- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(database_url: str, data_dir: Path, static_root: Path) -> dict[str, str]:
    """The environment a shop's server runs with: production mode, its database, a data directory."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "HUITOU_DATA_DIR": str(data_dir),
        "HUITOU_STATIC_ROOT": str(static_root),
        "SESSION_COOKIE_SECURE": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def wait_until_up(process: subprocess.Popen[bytes], port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server stopped (exit {process.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not answer /healthz in time")


def start_serve(env: dict[str, str], port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    """``huitou serve`` as a shop runs it (with its background worker)."""
    command = [sys.executable, "-m", "huitou.cli", "serve", "--port", str(port), *extra]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)  # noqa: S603
    wait_until_up(process, port)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the data --------------------------------------------------------------------------------------


@dataclass
class Fixture:
    """What the bench visits: the organization's users, samples, fleets, orders, days."""

    organization: Any
    owner: Any
    desk: Any  # the front-desk person with the most follow-ups due today
    desk_due_today: int
    rows: list[dict[str, str]]
    fleets: list[tuple[int, int]]  # (customer id, orders)
    orders: list[int]
    busiest_day: tuple[Any, int]
    today_orders: int
    customers: int
    token: str = ""
    notes: list[str] = field(default_factory=list)


def samples(organization: Any, count: int) -> list[dict[str, str]]:
    """Customers spread over the table, each with a phone, a plate and a VIN (as bench/search.py picks them)."""
    from huitou.customers.models import Customer, Vehicle

    customers = Customer.objects.for_org(organization).active().exclude(phone="")
    total = customers.count()
    step = max(1, total // (count * 2))
    picked: list[dict[str, str]] = []
    ids = list(customers.order_by("pk").values_list("pk", flat=True)[::step][: count * 2])
    vehicles = (
        Vehicle.objects.for_org(organization)
        .active()
        .filter(customer_id__in=ids)
        .exclude(vin="")
        .select_related("customer")
        .order_by("customer_id", "pk")
    )
    seen: set[int] = set()
    for vehicle in vehicles:
        c = vehicle.customer
        if c.pk in seen or c.deleted_at is not None:
            continue
        seen.add(c.pk)
        picked.append(
            {
                "id": str(c.pk),
                "name": c.name,
                "pinyin": c.name_pinyin,
                "initials": c.name_initials,
                "phone": c.phone.removeprefix("+86"),
                "plate": vehicle.plate,
                "vin": vehicle.vin,
            }
        )
    return picked[:count]


def prepare(user_prefix: str, count: int) -> Fixture:
    from django.db.models import Count, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from huitou.api.services import token_create
    from huitou.customers.models import Customer
    from huitou.demo.models import DemoOrganization
    from huitou.lifecycle.models import FollowUpTask
    from huitou.service.models import ServiceOrder
    from huitou.tenancy.models import Shop, User

    marker = DemoOrganization.objects.filter(user_prefix=user_prefix).select_related("organization").first()
    if marker is None:
        sys.exit(f"No bench organization with user prefix {user_prefix!r}: build it with bench/search.py first.")
    org = marker.organization
    owner = User.objects.get(username=f"{user_prefix}owner")
    today = timezone.localdate()
    due = (
        FollowUpTask.objects.for_org(org)
        .filter(closed_at=None, due_on=today)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .order_by("-n")[:1]
    )
    desk_id, desk_due = (due[0]["assignee_id"], due[0]["n"]) if due else (owner.pk, 0)
    desk = User.objects.for_org(org).get(pk=desk_id)
    for user in {owner, desk}:
        if not user.check_password(BENCH_PASSWORD):
            user.set_password(BENCH_PASSWORD)
            user.save(update_fields=["password"])
    fleets = list(
        Customer.objects.for_org(org).active().order_by("-visit_count", "pk").values_list("pk", "visit_count")[:10]
    )
    fleets = [(pk, n) for pk, n in fleets if n >= fleets[0][1] * 0.9]  # the fleets: 300 orders each in the bench
    orders = list(
        ServiceOrder.objects.for_org(org)
        .filter(customer_id__in=[pk for pk, _n in fleets])
        .order_by("-opened_at")
        .values_list("pk", flat=True)[:40]
    )
    shop = Shop.objects.for_org(org).order_by("pk").first()
    days = (
        ServiceOrder.objects.for_org(org)
        .filter(shop=shop, opened_at__gte=timezone.now() - dt.timedelta(days=60))
        .annotate(day=TruncDate("opened_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("-n")[:1]
    )
    busiest = (days[0]["day"], days[0]["n"]) if days else (today, 0)
    today_orders = ServiceOrder.objects.for_org(org).filter(Q(shop=shop), opened_at__date=today).count()
    _token, raw = token_create(user=owner, name="bench/over_http.py")
    return Fixture(
        organization=org,
        owner=owner,
        desk=desk,
        desk_due_today=desk_due,
        rows=samples(org, count),
        fleets=fleets,
        orders=orders,
        busiest_day=busiest,
        today_orders=today_orders,
        customers=Customer.objects.for_org(org).count(),
        token=raw,
    )


# --- what is timed ---------------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    who: str  # "api", "owner" or "desk"
    paths: list[str]
    kind: str = ""  # "search" for search keys, else the page target's name
    limit_label: str = ""
    search_key: Any = None  # bench/search.py's Key for the server-side figure
    queries: list[str] = field(default_factory=list)
    http: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    errors: int = 0


def targets(fx: Fixture, page_samples: int, wanted: list[str]) -> list[Target]:
    from search import KEYS

    found: list[Target] = []
    for key in KEYS:
        qs = [key.query(r) for r in fx.rows]
        found.append(
            Target(
                f"API search: {key.label}",
                "api",
                [f"/api/v1/customers?q={quote(q)}" for q in qs],
                "search",
                key.limit_label,
                key,
                qs,
            )
        )
    for key in [k for k in KEYS if k.label in LIST_PAGE_KEYS]:
        qs = [key.query(r) for r in fx.rows[:page_samples]]
        found.append(Target(f"list page: {key.label}", "owner", [f"/customers/?q={quote(q)}" for q in qs], "list"))
    fleet = [f"/customers/{pk}/" for pk, _n in fx.fleets]
    found.append(Target("customer file (fleet)", "owner", fleet, "customer file"))
    found.append(Target("order page", "owner", [f"/service/orders/{pk}/" for pk in fx.orders], "order page"))
    found.append(Target("day's orders: today", "owner", ["/service/orders/"], "day"))
    found.append(
        Target("day's orders: busiest day", "owner", [f"/service/orders/?day={fx.busiest_day[0].isoformat()}"], "day")
    )
    found.append(Target("my follow-ups: today", "desk", ["/followups/?due=today"], "work list"))
    found.append(Target("my follow-ups: overdue", "desk", ["/followups/?due=overdue"], "work list"))
    found.append(Target("team backlog (manager)", "owner", ["/followups/team/"], "team"))
    found.append(Target("funnel, 90 days by source", "owner", ["/analytics/funnel/"], "funnel"))
    return [t for t in found if not wanted or any(w in t.label for w in wanted)]


def rounds_for(target: Target, samples: int, page_samples: int) -> int:
    """How many requests a target gets: each sample once for searches, ``page_samples`` for pages
    (fewer for the funnel and the team's backlog, a tenth of a second or more each)."""
    if target.kind == "search":
        return len(target.paths)
    if target.kind in {"funnel", "team"}:
        return max(10, page_samples // 5)
    return page_samples


def time_server_side(fx: Fixture, chosen: list[Target], samples: int, page_samples: int) -> None:
    """The same work in this process, without HTTP: the search as bench/search.py times it, the pages
    through Django's test client."""
    from django.test import Client
    from search import api_search

    clients = {"owner": Client(), "desk": Client()}
    clients["owner"].force_login(fx.owner)
    clients["desk"].force_login(fx.desk)
    for target in chosen:
        if target.kind == "search":
            for q in target.queries[:20]:
                api_search(fx.organization, q)
            target.server = [api_search(fx.organization, q)[0] for q in target.queries]
            continue
        client = clients["owner" if target.who == "api" else target.who]
        for path in target.paths[:3]:
            assert client.get(path).status_code == 200, path
        n = rounds_for(target, samples, page_samples)
        for i in range(n):
            started = time.perf_counter()
            response = client.get(target.paths[i % len(target.paths)])
            target.server.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (target.paths[i % len(target.paths)], response.status_code)


def time_http(fx: Fixture, chosen: list[Target], port: int, samples: int, page_samples: int) -> None:
    browsers = {"api": Browser(port, token=fx.token), "owner": Browser(port), "desk": Browser(port)}
    browsers["owner"].sign_in(fx.owner.username, BENCH_PASSWORD)
    browsers["desk"].sign_in(fx.desk.username, BENCH_PASSWORD)
    for target in chosen:  # warm up: templates, caches, connections
        for path in target.paths[:20]:
            browsers[target.who].get(path)
    # Targets take turns request by request, so a busy moment on the machine falls on all alike.
    plan = [(t, rounds_for(t, samples, page_samples)) for t in chosen]
    for i in range(max(n for _t, n in plan)):
        for target, n in plan:
            if i >= n:
                continue
            ms, status = browsers[target.who].timed_get(target.paths[i % len(target.paths)])
            target.http.append(ms)
            if status != 200:
                target.errors += 1


# --- main ------------------------------------------------------------------------------------------


def fmt(times: list[float], share: float) -> str:
    return f"{percentile(times, share):.1f}" if times else "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite-dir", type=Path, help="a data directory whose embedded SQLite database to use")
    parser.add_argument("--user-prefix", default="bench_", help="the bench organization's user prefix")
    parser.add_argument("--samples", type=int, default=200, help="queries per search key")
    parser.add_argument("--page-samples", type=int, default=60, help="requests per page")
    parser.add_argument("--threads", type=int, default=0, help="waitress threads (default: serve's)")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve without its background worker, whose nightly jobs (19:10-20:10 UTC, 03:10-04:10 in China) "
        "would otherwise run on the bench database in the middle of a run that crosses them",
    )
    parser.add_argument("--only", default="", help="comma-separated parts of labels to time (default all)")
    parser.add_argument("--skip-limit", action="store_true")
    parser.add_argument("--skip-server-side", action="store_true", help="HTTP figures only")
    parser.add_argument("--limit-script", type=Path, default=Path(os.environ.get("HUITOU_LIMIT_SEARCH", DEFAULT_LIMIT)))
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    work = Path(tempfile.mkdtemp(prefix="huitou-http-"))
    if args.sqlite_dir:
        data_dir, url = args.sqlite_dir.resolve(), ""
        os.environ["HUITOU_DATA_DIR"] = str(data_dir)
    else:
        data_dir, url = work / "data", args.database_url
    setup_django(url)
    from django.db import connection

    vendor = connection.vendor
    fx = prepare(args.user_prefix, args.samples)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    chosen = targets(fx, args.page_samples, wanted)
    print(
        f"{fx.organization.name}: fleets of {fx.fleets[-1][1]}–{fx.fleets[0][1]} orders; "
        f"front desk {fx.desk.username} with {fx.desk_due_today} follow-ups due today; "
        f"busiest day {fx.busiest_day[0]} ({fx.busiest_day[1]:,} orders), today {fx.today_orders}; "
        f"{len(fx.rows)} search samples"
    )
    if not args.skip_server_side:
        print("server side (in process, no HTTP) ...")
        time_server_side(fx, chosen, args.samples, args.page_samples)
    connection.close()

    port = free_port()
    env = server_environment(url, data_dir, work / "static")
    extra = (["--threads", str(args.threads)] if args.threads else []) + (["--no-worker"] if args.no_worker else [])
    print(f"huitou serve on port {port} {' '.join(extra)} ...")
    started = time.monotonic()
    server = start_serve(env, port, extra)
    print(f"  answering /healthz after {time.monotonic() - started:.1f} s; machine: {machine()}")
    try:
        time_http(fx, chosen, port, args.samples, args.page_samples)
    finally:
        stop(server)
    load_after = machine()

    limit: dict[str, tuple[float, float]] = {}
    if vendor == "postgresql" and not args.skip_limit and any(t.kind == "search" for t in chosen):
        from search import run_limit

        print(f"limit: {args.limit_script}")
        limit = run_limit(args.limit_script, url, fx.customers)

    target_ms = SEARCH_TARGET_MS.get(vendor, 15.0)
    print(f"\nmachine after: {load_after}; database: {vendor}")
    print("\np50 / p95 in ms; server side = the same work in process without HTTP\n")
    print(
        "| what | requests | HTTP p50 | HTTP p95 | server side p50 | server side p95 | limit p50 / p95 | target p95 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    missed = []
    for t in chosen:
        goal = target_ms if t.kind == "search" else PAGE_TARGETS_MS.get(t.kind)
        lim = limit.get(t.limit_label)
        errors = f" ({t.errors} errors)" if t.errors else ""
        print(
            f"| {t.label} | {len(t.http)}{errors} | {fmt(t.http, 0.5)} | {fmt(t.http, 0.95)} | "
            f"{fmt(t.server, 0.5)} | {fmt(t.server, 0.95)} | "
            f"{f'{lim[0]:.2f} / {lim[1]:.2f}' if lim else '—'} | {f'{goal:.0f}' if goal else '—'} |"
        )
        if goal and t.http and percentile(t.http, 0.95) > goal:
            missed.append(t.label)
        if t.errors:
            missed.append(f"{t.label} (errors)")
    if chosen and chosen[0].http:
        overhead = [statistics.median(t.http) - statistics.median(t.server) for t in chosen if t.http and t.server]
        if overhead:
            print(f"\nHTTP minus server side, median over targets: {statistics.median(overhead):.1f} ms")
    print(f"\ntargets: {'missed by ' + ', '.join(missed) if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
