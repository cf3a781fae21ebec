"""Importing a shop's customer sheet: 100,000 rows of customers with their cars.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--database-url URL | --sqlite]

Writes an .xlsx the way a shop's sheet looks (a merged title row, the header
on row 3, phones with spaces and +86, plates in lower case or with a dot,
dates as Excel dates and as text, lunar birthdays, a blank line and a total
line; a quarter of the customers with two cars, half the rows with a last
service of a catalog item), then times the product's own steps on a new
organization: ``import_upload`` (the header), ``import_check`` (the dry run)
and ``import_run`` (the import, batches of 2,000, one transaction each).
Peak memory is the process's maximum resident set (``ru_maxrss``), Django,
the sheet's writing and the whole run included.

PostgreSQL: ``--database-url`` (default
``postgres://postgres@127.0.0.1:5432/huitou_import_bench``, created and
migrated when missing). ``--sqlite``: a new SQLite file in a temporary
directory, as a single shop runs it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import machine, setup_django

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huitou_import_bench"
LIMITS = {"postgresql": 60.0, "sqlite": 120.0}
MEMORY_LIMIT_MB = 500
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文斌宇浩凯鹏飞"
PROVINCES = "京沪粤浙苏川鄂湘鲁豫"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
BRANDS = [
    "丰田 卡罗拉",
    "本田 雅阁",
    "大众 帕萨特",
    "日产 轩逸",
    "别克 英朗",
    "比亚迪 秦PLUS",
    "吉利 博越",
    "长安 CS75",
]
ITEMS = ["小保养", "大保养", "更换空调滤芯", "洗车"]


def _ensure_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def write_sheet(path: Path, rows: int) -> int:
    """The shop's sheet, streamed to disk (openpyxl write-only); returns the number of data rows."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("客户档案")
    sheet.append(["顺达汽修 客户车辆档案（导出于旧系统）"])
    sheet.append([])
    sheet.append(
        ["客户姓名", "手机号码", "车牌号码", "品牌车型", "出生日期", "上次保养日期", "行驶里程", "保养项目", "备注"]
    )
    written = 0
    person = 0
    n = 0
    while written < rows:
        cars = 2 if person % 4 == 0 else 1
        name = SURNAMES[person % len(SURNAMES)] + GIVEN[(person // 7) % len(GIVEN)] + GIVEN[(person // 13) % len(GIVEN)]
        digits = f"13{person:09d}"
        phone = [
            digits,
            f"{digits[:3]} {digits[3:7]} {digits[7:]}",
            f"+86 {digits}",
            f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        ][person % 4]
        birthday: Any = [
            "",
            dt.date(1970 + person % 35, 1 + person % 12, 1 + person % 28),
            "农历八月十五",
            "1985年3月8日",
        ][person % 4]
        for _car in range(cars):
            if written >= rows:
                break
            serial = f"{LETTERS[(n // 100000) % 24]}{n % 100000:05d}"
            province = PROVINCES[(n // 2400000) % len(PROVINCES)]
            plate = [f"{province}{serial}", f"{province}{serial[0].lower()}·{serial[1:]}", f"{province} {serial}"][
                n % 3
            ]
            day = dt.date(2023, 1, 1) + dt.timedelta(days=n % 700)
            service_day: Any = [
                dt.datetime.combine(day, dt.time()),
                day.strftime("%Y/%-m/%-d"),
                day.strftime("%Y年%-m月%-d日"),
            ][n % 3]
            item = ITEMS[n % len(ITEMS)] if n % 2 == 0 else ""
            sheet.append(
                [name, phone, plate, BRANDS[n % len(BRANDS)], birthday, service_day, 5000 + (n * 37) % 150000, item, ""]
            )
            written += 1
            n += 1
            if written % 25000 == 0:
                sheet.append([])
        person += 1
    sheet.append(["合计", f"{written}辆"])
    workbook.save(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite", action="store_true", help="a new SQLite database in a temporary directory")
    parser.add_argument("--batch-rows", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="print where the import's time goes (cProfile)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="huitou-import-bench-"))
    os.environ["HUITOU_DATA_DIR"] = str(workdir)
    os.environ["HUITOU_MEDIA_ROOT"] = str(workdir / "media")
    if args.sqlite:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        os.environ.pop("DATABASE_URL", None)
        setup_django_sqlite()
    else:
        url = args.database_url
        _ensure_postgres(url)
        setup_django(url)

    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from huitou.customers.models import Customer, Vehicle
    from huitou.imports.services import import_check, import_run, import_start, import_upload
    from huitou.service.models import ServiceOrder
    from huitou.service.starter import catalog_seed
    from huitou.tenancy.models import Shop
    from huitou.tenancy.roles import Role
    from huitou.tenancy.services import organization_create, staff_create

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%Y%m%d%H%M%S")
    organization = organization_create(name=f"导入测评{stamp}", shop_names=["导入测评店"])
    owner = staff_create(
        organization=organization,
        username=f"import_bench_{stamp}",
        password="bench-password-not-used-42",  # noqa: S106
        role=Role.OWNER,
        shops=list(Shop.objects.for_org(organization)),
        validate=False,
    )
    catalog_seed(organization=organization)

    sheet = workdir / "客户档案.xlsx"
    started = time.perf_counter()
    rows = write_sheet(sheet, args.rows)
    written_in = time.perf_counter() - started
    size_mb = sheet.stat().st_size / 1024 / 1024

    started = time.perf_counter()
    with sheet.open("rb") as fh:
        job = import_upload(organization=organization, by=owner, upload=File(fh, name=sheet.name), kind="customers")
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    import_check(job=job, by=owner)
    check_s = time.perf_counter() - started
    dry = (job.rows, job.created, job.updated, job.skipped, job.failed)
    import_start(job=job, by=owner, enqueue=False)
    profiler = cProfile.Profile() if args.profile else None
    server_started = _server_cpu(connection)
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    job = import_run(organization_id=organization.pk, job_id=job.pk, batch_rows=args.batch_rows)
    run_s = time.perf_counter() - started
    run_cpu = time.process_time() - cpu_started
    server_cpu = _server_cpu(connection) - server_started if server_started >= 0 else None
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    vendor = connection.vendor
    limit = LIMITS.get(vendor, 120.0)
    customers = Customer.objects.for_org(organization).count()
    vehicles = Vehicle.objects.for_org(organization).count()
    orders = ServiceOrder.objects.for_org(organization).count()
    print(f"machine: {machine()}")
    print(f"database: {vendor} ({url.split('@')[-1]})")
    print(f"sheet: {rows} rows, {size_mb:.1f} MB .xlsx, written in {written_in:.1f} s")
    print(f"dry run report (rows, created, updated, skipped, errors): {dry}")
    print(f"import: {job.state}; rows {job.rows}, created {job.created}, errors {job.failed}")
    print(f"written: {customers} customers, {vehicles} vehicles, {orders} last-service orders")
    print(f"header and mapping: {upload_s:.2f} s")
    print(f"dry run:            {check_s:.1f} s")
    print(f"import CPU time:    {run_cpu:.1f} s of this process (the database server's is not in it)")
    if server_cpu is not None:
        print(f"database CPU time:  {server_cpu:.1f} s of the server process serving the import")
    print(f"import:             {run_s:.1f} s   (limit {limit:.0f} s)  {'OK' if run_s <= limit else 'OVER'}")
    print(
        f"peak memory:        {peak_mb:.0f} MB (limit {MEMORY_LIMIT_MB} MB)  "
        f"{'OK' if peak_mb < MEMORY_LIMIT_MB else 'OVER'}"
    )


def _server_cpu(connection: Any) -> float:
    """CPU seconds the PostgreSQL backend of this connection has used (-1 elsewhere, or unreadable)."""
    if connection.vendor != "postgresql":
        return -1.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_django_sqlite() -> None:
    """Production settings on a new SQLite file in the data directory (as a shop's PC runs it)."""
    import secrets

    os.environ["DJANGO_SETTINGS_MODULE"] = "huitou.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    import django

    django.setup()


if __name__ == "__main__":
    main()
