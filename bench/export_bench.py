"""Exporting 100,000 customers: the customer list as .xlsx and .csv, as the product makes it.

    .venv/bin/python bench/export_bench.py [--customers 100000] [--database-url URL] [--runs 3]

The database is ``--database-url``, else ``$BENCH_EXPORT_DATABASE_URL``, else
``postgres://postgres@127.0.0.1:5432/huitou_bench_export``: a small database of
its own, built with ``bench/build_db.py --customers N`` when it holds no demo
organization yet. Then, with production settings (``DEBUG=0``) and no HTTP, it
times the export of the whole customer list (no filter: every row) and of one
stage, each as .xlsx and .csv, as the store manager sees it, through the path a
long list takes in production: ``export_request`` queues the job,
``export_build`` (what the huey worker runs) reads the list with the page's
selector and writes the file to the exports directory (a temporary one here).
It prints the wall time, the rows, the file size and the process's peak memory,
beside the limit of 30 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_bench_export"
LIMIT_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_EXPORT_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.database_url.startswith(("postgres://", "postgresql://")):
        from search import ensure_database

        ensure_database(args.database_url, rebuild=False)
    setup_django(args.database_url)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from huitou.customers.models import Customer
    from huitou.demo.services import DEMO_ORG_NAME
    from huitou.exports.models import ExportJob
    from huitou.exports.services import export_build, export_request
    from huitou.tenancy.models import Organization, User

    call_command("migrate", verbosity=0)
    organization = Organization.objects.filter(name=DEMO_ORG_NAME).first()
    if organization is None:
        print(f"building {args.customers:,} customers with bench/build_db.py ...")
        subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(REPO / "bench" / "build_db.py"), "--customers", str(args.customers)]
            + ["--database-url", args.database_url],
            check=True,
        )
        organization = Organization.objects.get(name=DEMO_ORG_NAME)
    owner = User.objects.for_org(organization).filter(role="owner").order_by("pk").first()
    assert owner is not None
    total = Customer.objects.for_org(organization).active().count()
    print(machine())
    print(f"{organization.name}: {total:,} active customers; exporting as {owner.username} (store manager)\n")

    settings.EXPORTS_DIR = tempfile.mkdtemp(prefix="huitou-export-bench-")
    cases = [("every customer", {}), ("stage = customer", {"stage": "customer"})]
    print(f"{'list':<18} {'format':<6} {'rows':>9} {'MB':>6} {'best s':>7} {'worst s':>8}  limit")
    for label, params in cases:
        for fmt in ("xlsx", "csv"):
            times = []
            rows = size = 0
            for _ in range(args.runs):
                started = time.monotonic()
                with transaction.atomic():
                    job = export_request(
                        organization=organization, by=owner, source="customers", fmt=fmt, params=params
                    )
                if job.content is None:
                    made = export_build(job=ExportJob.objects.for_org(organization).get(pk=job.job.pk))
                    rows = made.rows or 0
                    size = (Path(settings.EXPORTS_DIR) / made.file).stat().st_size
                else:
                    rows, size = job.job.rows or 0, len(job.content)
                times.append(time.monotonic() - started)
            verdict = "ok" if max(times) <= LIMIT_S else "OVER"
            print(
                f"{label:<18} {fmt:<6} {rows:>9,} {size / 1e6:>6.1f} {min(times):>7.1f} {max(times):>8.1f}  "
                f"≤ {LIMIT_S:.0f} s {verdict}"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
