"""Under load: N concurrent clients searching, opening files and writing, against ``huitou serve`` or gunicorn.

    .venv/bin/python bench/load.py [--database-url URL | --sqlite-dir DIR] [--clients 8,32] [--seconds 60]
        [--server serve|gunicorn] [--workers 3] [--threads 8] [--writes 0.1] [--think 0]

Starts the server on the bench organization (production mode, as
``bench/over_http.py`` does), then for each number of clients runs that many
clients for ``--seconds``, each a loop over one keep-alive connection, with
no pause between requests (the worst a counter of clerks and integrations
can do; bounded in time, loopback only). With ``--think S`` each client
pauses between its requests for a random time of mean S seconds
(exponential), as people at counters do: 32 clerks each asking about once a
second is a different load from 32 loops as fast as the server answers, and
both are printed. The clients are spread over a few
processes, so Python's lock in the client does not hold them back, and they
share the machine's cores with the server: the figures are what two cores
serve while also running the clients. Each request is drawn from:

* searches through the API (``GET /api/v1/customers?q=``, a bearer token),
  every key of ``bench/search.py``;
* the customer list page with a query, customer files (now and then a
  fleet's, with 300 orders), order pages, "my follow-ups" today (signed-in
  sessions);
* writes (share ``--writes``): a follow-up recorded on a customer through the
  API, and a new customer file registered through the API (both through the
  services, with their history and events).

It prints requests per second, p50 / p95 / p99 and the errors (any answer
other than the one expected, a refused connection, a timeout) per kind
and in all, and how many "database is locked" errors the server logged.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common import machine, percentile, setup_django
from over_http import BENCH_PASSWORD, Browser, free_port, prepare, server_environment, stop, wait_until_up

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench"
# (kind, weight): what a counter does most is search and open files.
READS = [("api search", 40), ("list page", 10), ("customer file", 15), ("fleet file", 2), ("order page", 10)]
READS += [("my follow-ups", 5)]
WRITES = [("write: follow-up", 2), ("write: new customer", 1)]


@dataclass
class Plan:
    """What a client process needs: the port, credentials and the paths to draw from."""

    port: int
    token: str
    owner: str
    desk: str
    searches: list[str]
    customers: list[int]
    fleets: list[int]
    orders: list[int]
    writes: float
    seconds: float
    threads: int
    seed: int
    think: float = 0.0


def client_process(plan: Plan, out: str) -> None:
    """``plan.threads`` clients for ``plan.seconds``; writes (kind, start, ms, ok, detail) rows as JSON to ``out``."""
    owner = Browser(plan.port)
    owner.sign_in(plan.owner, BENCH_PASSWORD)
    desk = Browser(plan.port)
    desk.sign_in(plan.desk, BENCH_PASSWORD)
    kinds = [k for k, _w in READS]
    weights = [w * (1 - plan.writes) / sum(w for _k, w in READS) for _k, w in READS]
    kinds += [k for k, _w in WRITES]
    weights += [w * plan.writes / sum(w for _k, w in WRITES) for _k, w in WRITES]
    rows: list[tuple[str, float, float, bool, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(plan.threads)

    def one_client(n: int) -> None:
        r = random.Random(plan.seed * 1000 + n)
        api = Browser(plan.port, token=plan.token)
        page = Browser(plan.port)
        page.cookies = dict(owner.cookies)
        work = Browser(plan.port)
        work.cookies = dict(desk.cookies)
        mine: list[tuple[str, float, float, bool, str]] = []
        barrier.wait()
        end = time.monotonic() + plan.seconds
        while time.monotonic() < end:
            kind = r.choices(kinds, weights)[0]
            started = time.perf_counter()
            at = time.monotonic()
            try:
                status, expected, detail = request(kind, r, plan, api, page, work)
                ok = status == expected
            except Exception as exc:  # noqa: BLE001 - a refused or broken connection is an error to count
                ok, detail = False, f"{type(exc).__name__}: {exc}"[:200]
                for b in (api, page, work):
                    b.conn.close()
            mine.append((kind, at, (time.perf_counter() - started) * 1000, ok, detail if not ok else ""))
            if plan.think:
                time.sleep(min(r.expovariate(1 / plan.think), max(0.0, end - time.monotonic())))
        with lock:
            rows.extend(mine)

    threads = [threading.Thread(target=one_client, args=(n,)) for n in range(plan.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(out).write_text(json.dumps(rows))


def request(
    kind: str, r: random.Random, plan: Plan, api: Browser, page: Browser, work: Browser
) -> tuple[int, int, str]:
    """One request of ``kind``: (status, the status expected, a detail for errors)."""
    if kind == "api search":
        status, body = api.get(f"/api/v1/customers?q={quote(r.choice(plan.searches))}")
        return status, 200, body[:200].decode(errors="replace")
    if kind == "list page":
        status, body = page.get(f"/customers/?q={quote(r.choice(plan.searches))}")
        return status, 200, ""
    if kind == "customer file":
        status, _ = page.get(f"/customers/{r.choice(plan.customers)}/")
        return status, 200, ""
    if kind == "fleet file":
        status, _ = page.get(f"/customers/{r.choice(plan.fleets)}/")
        return status, 200, ""
    if kind == "order page":
        status, _ = page.get(f"/service/orders/{r.choice(plan.orders)}/")
        return status, 200, ""
    if kind == "my follow-ups":
        status, _ = work.get("/followups/?due=today")
        return status, 200, ""
    headers = {"Content-Type": "application/json"}
    if kind == "write: follow-up":
        customer = r.choice(plan.customers)
        payload = {"channel": "phone", "content": "回访：车况良好", "result": "满意"}
        status, body = api.request("POST", f"/api/v1/customers/{customer}/followups", json.dumps(payload), headers)
        return status, 201, body[:200].decode(errors="replace")
    phone = f"19{r.randrange(10**9):09d}"
    payload = {"name": "压测客户", "phone": phone}
    status, body = api.request("POST", "/api/v1/customers", json.dumps(payload), headers)
    if status == 422 and b"phone" in body:  # the number drawn is taken: a refusal, not an error
        return status, 422, ""
    return status, 201, body[:200].decode(errors="replace")


def start_server(args: argparse.Namespace, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    if args.server == "serve":
        command = [sys.executable, "-m", "huitou.cli", "serve", "--port", str(port), "--no-worker"]
        if args.threads:
            command += ["--threads", str(args.threads)]
    else:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        command = [gunicorn, "huitou.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
        if args.threads:
            command += ["-k", "gthread", "--threads", str(args.threads)]
    with log.open("wb") as stream:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=stream, stderr=subprocess.STDOUT)  # noqa: S603
    wait_until_up(process, port)
    return process


def run(plan: Plan, clients: int, processes: int, work: Path) -> list[tuple[str, float, float, bool, str]]:
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    outs = [str(work / f"rows-{clients}-{i}.json") for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=client_process, args=(Plan(**{**vars(plan), "threads": n, "seed": plan.seed + i}), o))
        for i, (n, o) in enumerate(zip(per, outs, strict=True))
        if n
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    rows: list[tuple[str, float, float, bool, str]] = []
    for o in outs:
        if Path(o).exists():
            rows += [tuple(r) for r in json.loads(Path(o).read_text())]
    return rows


def report(rows: list[tuple[str, float, float, bool, str]], seconds: float, label: str) -> dict[str, Any]:
    by_kind: dict[str, list[tuple[str, float, float, bool, str]]] = defaultdict(list)
    for row in rows:
        by_kind[row[0]].append(row)
    print(f"\n{label}")
    print("| kind | requests | per second | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for kind in [k for k, _w in READS + WRITES] + ["all"]:
        part = rows if kind == "all" else by_kind.get(kind, [])
        if not part:
            continue
        times = [r[2] for r in part]
        errors = sum(1 for r in part if not r[3])
        print(
            f"| {kind} | {len(part)} | {len(part) / seconds:.1f} | {statistics.median(times):.1f} | "
            f"{percentile(times, 0.95):.1f} | {percentile(times, 0.99):.1f} | {errors} |"
        )
    details: dict[str, int] = defaultdict(int)
    for r in rows:
        if not r[3]:
            details[r[4][:120]] += 1
    for detail, n in sorted(details.items(), key=lambda x: -x[1])[:5]:
        print(f"  {n} × {detail}")
    times = [r[2] for r in rows]
    return {
        "rps": len(rows) / seconds,
        "p50": statistics.median(times) if times else float("nan"),
        "p95": percentile(times, 0.95) if times else float("nan"),
        "errors": sum(1 for r in rows if not r[3]),
        "requests": len(rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite-dir", type=Path, help="a data directory whose embedded SQLite database to use")
    parser.add_argument("--user-prefix", default="bench_")
    parser.add_argument("--clients", default="8,32", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--server", choices=["serve", "gunicorn"], default="serve")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=0, help="serve's threads; gunicorn's per worker (gthread)")
    parser.add_argument("--writes", type=float, default=0.1, help="share of requests that write")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds each client pauses between requests")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server's environment")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    work = Path(tempfile.mkdtemp(prefix="huitou-load-"))
    if args.sqlite_dir:
        data_dir, url = args.sqlite_dir.resolve(), ""
        os.environ["HUITOU_DATA_DIR"] = str(data_dir)
    else:
        data_dir, url = work / "data", args.database_url
    setup_django(url)
    from django.db import connection

    vendor = connection.vendor
    fx = prepare(args.user_prefix, 200)
    from search import KEYS

    searches = [key.query(r) for key in KEYS for r in fx.rows]
    customers = [int(r["id"]) for r in fx.rows]
    connection.close()
    port = free_port()
    env = server_environment(url, data_dir, work / "static")
    env.update(dict(item.split("=", 1) for item in args.env))
    log = work / "server.log"
    if args.server == "gunicorn":
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "huitou.cli", "collectstatic", "--noinput", "-v0"], env=env, cwd=REPO, check=True
        )
    server = start_server(args, env, port, log)
    name = (
        f"huitou serve ({args.threads or 'default'} threads)"
        if args.server == "serve"
        else f"gunicorn {args.workers} workers" + (f" × {args.threads} threads" if args.threads else " (sync)")
    )
    print(f"{name} on {vendor}, {len(customers)} customers' files drawn, {len(searches)} searches; log {log}")
    summary = []
    try:
        for clients in [int(c) for c in args.clients.split(",")]:
            plan = Plan(
                port=port,
                token=fx.token,
                owner=fx.owner.username,
                desk=fx.desk.username,
                searches=searches,
                customers=customers,
                fleets=[pk for pk, _n in fx.fleets],
                orders=fx.orders,
                writes=args.writes,
                seconds=args.seconds,
                threads=0,
                seed=clients,
                think=args.think,
            )
            before = machine()
            started = time.monotonic()
            rows = run(plan, clients, min(args.client_processes, clients), work)
            elapsed = time.monotonic() - started
            pace = f", each pausing {args.think:g} s on average" if args.think else ", no pause"
            label = f"{clients} clients{pace}, {args.seconds:.0f} s ({elapsed:.0f} s with sign-in); {before}"
            figures = report(rows, args.seconds, label)
            summary.append((clients, figures, os.getloadavg()[0]))
    finally:
        stop(server)
    locked = log.read_text(errors="replace").count("database is locked")
    print(f"\nserver log: {locked} 'database is locked'")
    print(
        "\n| server | database | clients | pause s | requests/s | p50 ms | p95 ms | errors "
        "| load average (1 min, after) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for clients, f, load in summary:
        print(
            f"| {name} | {vendor} | {clients} | {args.think:g} | {f['rps']:.0f} | {f['p50']:.1f} | {f['p95']:.1f} | "
            f"{f['errors']} of {f['requests']} | {load:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
