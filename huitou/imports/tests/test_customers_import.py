"""Customers with their cars from real sheets: messy values, several cars per phone, duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers.models import Customer, MileageReading, Stage, Vehicle, VehicleOwnership
from huitou.imports import errors
from huitou.imports.models import ImportIssue, ImportJob, ImportState
from huitou.imports.services import import_check, import_configure, import_start, import_upload
from huitou.imports.tests.sheets import HEADER, csv_upload, upload, xls_bytes, xlsx_upload
from huitou.lifecycle.models import StageChange
from huitou.service.models import OrderLine, OrderState, ServiceOrder
from huitou.tenancy.models import Organization, User

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 1, 10, 0))


def _import(
    org: Organization, by: User, upload: Any, capture: Any, kind: str = "customers", on_duplicate: str = "skip"
) -> ImportJob:
    job = import_upload(organization=org, by=by, upload=upload, kind=kind, now=NOW)
    import_configure(job=job, on_duplicate=on_duplicate)
    import_check(job=job, by=by, now=NOW)
    with capture(execute=True):
        import_start(job=job, by=by, now=NOW)
    job.refresh_from_db()
    return job


def _issues(job: ImportJob) -> list[tuple[int, str, str]]:
    return list(
        ImportIssue.objects.for_org(job.organization_id)
        .filter(job=job)
        .order_by("row", "pk")
        .values_list("row", "column", "message")
    )


def _sheet(fmt: str, rows: list[list[Any]], title: str) -> Any:
    """The rows as the file a shop brings: .xlsx (merged title), .xls (merged title) or a GBK CSV."""
    if fmt == "xlsx":
        return xlsx_upload(rows, title=title)
    if fmt == "xls":
        return upload("客户.xls", xls_bytes(rows, title=title))
    return csv_upload([[title], [], *rows], "gbk")


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "gbk-csv"])
def test_messy_values_are_cleaned_with_the_products_rules(
    org: Organization, owner: User, fmt: str, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        HEADER,
        ["张 三", "138 1234 5678", "浙a·12345", "丰田 卡罗拉", "", dt.datetime(1985, 3, 8), 45047, "45,000", "", ""],
        ["李四", "+86 139-8765-4321", "粤 B 54321", "本田", "", "农历八月十五", "2023/5/1", "3.2万", "", ""],
        [
            "王五",
            "１３７００００１１１１",
            "沪A.88888",
            "大众 帕萨特",
            "",
            "1990年12月1日",
            "2023年5月1日",
            12000,
            "",
            "",
        ],
        ["赵六", "13600002222", "京A66666", "", "", "农历1975年3月8日", "20230501", "", "", ""],
        ["钱七", "13500003333", "苏E12345", "", "", "", "2023-05-01", "8000km", "", ""],
    ]
    job = _import(org, owner, _sheet(fmt, rows, "顺达汽修客户档案（2024年）"), django_capture_on_commit_callbacks)

    assert job.header_row == 3
    assert (job.state, job.rows, job.created, job.updated, job.skipped, job.failed) == ("done", 5, 5, 0, 0, 0)
    assert _issues(job) == []
    by_phone = {c.phone: c for c in Customer.objects.for_org(org)}
    zhang = by_phone["+8613812345678"]
    assert zhang.name == "张 三" and zhang.stage == Stage.CUSTOMER
    assert (zhang.birth_year, zhang.birth_month, zhang.birth_day, zhang.birthday_calendar) == (1985, 3, 8, "solar")
    li = by_phone["+8613987654321"]
    assert (li.birth_year, li.birth_month, li.birth_day, li.birthday_calendar) == (None, 8, 15, "lunar")
    assert by_phone["+8613700001111"].birth_year == 1990
    zhao = by_phone["+8613600002222"]
    assert (zhao.birth_year, zhao.birth_month, zhao.birth_day, zhao.birthday_calendar) == (1975, 3, 8, "lunar")
    assert zhang.name_initials == "zs"
    plates = dict(Vehicle.objects.for_org(org).values_list("plate", "customer__name"))
    assert plates == {
        "浙A12345": "张 三",
        "粤B54321": "李四",
        "沪A88888": "王五",
        "京A66666": "赵六",
        "苏E12345": "钱七",
    }
    car = Vehicle.objects.for_org(org).get(plate="浙A12345")
    assert (car.brand, car.model, car.mileage_km) == ("丰田", "卡罗拉", 45000)
    assert timezone.localdate(car.mileage_at) == dt.date(2023, 5, 1)  # 45047 is Excel's 2023-05-01
    assert Vehicle.objects.for_org(org).get(plate="粤B54321").mileage_km == 32000
    assert Vehicle.objects.for_org(org).get(plate="苏E12345").mileage_km == 8000
    readings = MileageReading.objects.for_org(org)
    assert sorted(readings.values_list("km", flat=True)) == [8000, 12000, 32000, 45000]
    assert {timezone.localdate(r.read_at) for r in readings} == {dt.date(2023, 5, 1)}
    assert set(readings.values_list("source", flat=True)) == {"import"}
    assert VehicleOwnership.objects.for_org(org).count() == 5
    assert StageChange.objects.for_org(org).filter(reason="imported").count() == 5
    assert ChangeEntry.objects.for_org(org).filter(subject_type="customer", action="created").count() == 5


def test_rows_of_one_phone_are_one_customer_with_several_cars(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        ["姓名", "手机", "车牌", "车型"],
        ["周杰", "13811112222", "粤B11111", "卡罗拉"],
        [],
        ["周杰", "138-1111-2222", "粤B22222", "凯美瑞"],
        ["合计", "", "", "2辆"],
    ]
    job = _import(org, owner, xlsx_upload(rows), django_capture_on_commit_callbacks)
    assert (job.rows, job.created, job.failed) == (2, 2, 0)
    customer = Customer.objects.for_org(org).get()
    assert sorted(customer.vehicles.values_list("plate", flat=True)) == ["粤B11111", "粤B22222"]


def test_the_last_service_of_a_catalog_item_is_a_paid_order_the_care_engine_reads(
    org: Organization,
    owner: User,
    make_service_item: Callable[..., Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    item = make_service_item(name="小保养", code="BY01", interval_km=5000, interval_months=6)
    rows = [
        HEADER,
        ["孙悟空", "13812340000", "粤B10000", "", "", "", "2024-03-01", 30000, "小保养", ""],
        ["猪八戒", "13812340001", "粤B10001", "", "", "", "2024-03-02", 20000, "洗车", ""],
    ]
    job = _import(org, owner, xlsx_upload(rows), django_capture_on_commit_callbacks)
    assert job.created == 2
    order = ServiceOrder.objects.for_org(org).get()
    assert order.state == OrderState.PAID and order.total == 0 and order.mileage_km == 30000
    assert order.number == "20240301-0001"
    assert timezone.localdate(order.paid_at) == dt.date(2024, 3, 1)
    assert OrderLine.objects.for_org(org).get().service == item
    sun = Customer.objects.for_org(org).get(name="孙悟空")
    assert sun.visit_count == 1 and timezone.localdate(sun.last_visit_at) == dt.date(2024, 3, 1)
    # The item the catalog lacks is not invented: the car keeps its reading only.
    zhu = Customer.objects.for_org(org).get(name="猪八戒")
    assert zhu.visit_count == 0
    assert MileageReading.objects.for_org(org).filter(vehicle__customer=zhu).get().km == 20000


def test_each_bad_value_is_reported_with_its_excel_row_and_column(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        HEADER,
        ["好人", "13812345678", "粤B12345", "", "", "", "", "", "", ""],
        ["", "13812345679", "粤B12346", "", "", "", "", "", "", ""],
        ["坏电话", "12345", "粤B12347", "", "", "", "", "", "", ""],
        ["坏车牌", "13812345680", "XX123", "", "", "", "", "", "", ""],
        ["坏日期", "13812345681", "粤B12348", "", "", "", "2023-13-45", "", "", ""],
        ["坏里程", "13812345682", "粤B12349", "", "", "", "", "很多", "", ""],
        ["坏生日", "13812345683", "粤B12350", "", "", "2月30日", "", "", "", ""],
        ["重复车", "13812345684", "粤B12345", "", "", "", "", "", "", ""],
        ["坏VIN", "13812345685", "粤B12351", "", "LSVAM4187C2184848", "", "", "", "", ""],
    ]
    job = _import(org, owner, xlsx_upload(rows, title="客户"), django_capture_on_commit_callbacks)
    assert (job.rows, job.created, job.failed) == (9, 1, 8)
    # The title is row 1, an empty row 2, the header row 3: the first customer is Excel's row 4.
    assert _issues(job) == [
        (5, "客户姓名", str(errors.NAME_REQUIRED)),
        (6, "手机号码", str(errors.PHONE_INVALID)),
        (7, "车牌号码", str(errors.PLATE_INVALID)),
        (8, "上次保养日期", str(errors.DATE_INVALID)),
        (9, "行驶里程", str(errors.MILEAGE_INVALID)),
        (10, "出生日期", str(errors.BIRTHDAY_INVALID)),
        (11, "车牌号码", str(errors.PLATE_TWICE % {"row": 4})),
        (12, "车架号", str(errors.VIN_CHECK_FAILED)),
    ]
    assert Customer.objects.for_org(org).count() == 1


def test_a_gbk_csv_from_chinese_excel_is_read(
    org: Organization, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [
        ["车主", "联系电话", "车牌号", "品牌", "车型", "生日"],
        ["欧阳锋", "13912345678", "川A12345", "长安", "CS75", "农历腊月初八"],
    ]
    job = _import(org, owner, csv_upload(rows, "gbk"), django_capture_on_commit_callbacks)
    assert (job.created, job.failed) == (1, 0)
    customer = Customer.objects.for_org(org).get()
    assert customer.name == "欧阳锋"
    assert (customer.birth_month, customer.birth_day, customer.birthday_calendar) == (12, 8, "lunar")
    assert customer.vehicles.get().brand == "长安"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_excel_writes(
    org: Organization, owner: User, encoding: str, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    rows = [["姓名", "手机号码", "车牌"], ["诸葛亮", "13700001234", "蜀A12345".replace("蜀", "川")]]
    job = _import(org, owner, csv_upload(rows, encoding), django_capture_on_commit_callbacks)
    assert (job.created, job.failed) == (1, 0)
    assert Customer.objects.for_org(org).get().name == "诸葛亮"


def test_the_dry_run_writes_nothing_but_its_report(
    org: Organization, owner: User, make_customer: Callable[..., Customer]
) -> None:
    make_customer(name="老客户", phone="13800000001")
    rows = [HEADER, ["老客户", "13800000001", "粤B00001", "", "", "", "", "", "", ""]]
    rows += [
        ["新客户", "13800000002", "粤B00002", "", "", "", "2024-01-01", 1000, "", ""],
        ["坏", "1", "", "", "", "", "", "", "", ""],
    ]
    counts_before = {
        m: m.objects.for_org(org).count() for m in (Customer, Vehicle, MileageReading, ChangeEntry, StageChange)
    }
    job = import_upload(organization=org, by=owner, upload=xlsx_upload(rows), kind="customers", now=NOW)
    for mode in ("skip", "update", "merge"):
        import_configure(job=job, on_duplicate=mode)
        import_check(job=job, by=owner, now=NOW)
        expected = (3, 1, 1 if mode != "skip" else 0, 1 if mode == "skip" else 0, 1)
        assert (job.rows, job.created, job.updated, job.skipped, job.failed) == expected
    assert job.state == ImportState.CHECKED
    assert {m: m.objects.for_org(org).count() for m in counts_before} == counts_before


def test_duplicates_are_skipped_updated_or_merged_as_chosen(
    org: Organization,
    owner: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    results = {}
    for n, mode in enumerate(("skip", "update", "merge")):
        rows = [HEADER, ["新名字", "13800000001", f"粤B0000{n}", "宝马 X5", "", "1980-01-02", "", 50000, "", "新备注"]]
        # Each mode meets its own old file of that phone (the previous one no longer has it).
        Customer.objects.for_org(org).filter(phone="+8613800000001").update(phone="")
        customer = make_customer(name="老名字", phone="13800000001", address="")
        make_vehicle(customer, plate=f"粤B0001{n}", brand="奔驰")
        job = _import(org, owner, xlsx_upload(rows), django_capture_on_commit_callbacks, on_duplicate=mode)
        customer.refresh_from_db()
        results[mode] = (job.created, job.updated, job.skipped, customer.name, customer.birth_year, customer.notes)
        cars = sorted(customer.vehicles.values_list("plate", "brand", "mileage_km"))
        results[mode + "_cars"] = cars
    assert results["skip"] == (0, 0, 1, "老名字", None, "")
    assert results["update"] == (0, 1, 0, "新名字", 1980, "新备注")
    assert results["merge"] == (0, 1, 0, "老名字", 1980, "新备注")
    assert results["skip_cars"] == [("粤B00010", "奔驰", None)]
    assert results["merge_cars"] == [("粤B00002", "宝马", 50000), ("粤B00012", "奔驰", None)]


def test_a_plate_already_on_file_finds_its_file_and_another_owners_plate_is_refused(
    org: Organization,
    owner: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    no_phone = make_customer(name="老王", phone="")
    make_vehicle(no_phone, plate="粤B99999", brand="奔驰")
    with_phone = make_customer(name="老李", phone="13800000008")
    make_vehicle(with_phone, plate="粤B88888")
    rows = [
        HEADER,
        ["王师傅", "13800000009", "粤B99999", "", "", "", "2024-05-01", 60000, "", ""],  # the plate, no phone on file
        ["别人", "13700000000", "粤B88888", "", "", "", "", "", "", ""],  # 老李's car with another phone
    ]
    dry = import_upload(organization=org, by=owner, upload=xlsx_upload(rows), kind="customers", now=NOW)
    for mode, expected in (("skip", (2, 0, 0, 1, 1)), ("update", (2, 0, 1, 0, 1))):
        import_configure(job=dry, on_duplicate=mode)
        import_check(job=dry, by=owner, now=NOW)
        assert (dry.rows, dry.created, dry.updated, dry.skipped, dry.failed) == expected

    job = _import(org, owner, xlsx_upload(rows), django_capture_on_commit_callbacks, on_duplicate="update")
    assert (job.created, job.updated, job.failed) == (0, 1, 1)
    assert _issues(job) == [(3, "车牌号码", str(errors.PLATE_OTHER_OWNER % {"name": "老李"}))]
    no_phone.refresh_from_db()
    assert (no_phone.name, no_phone.phone) == ("王师傅", "+8613800000009")
    assert Vehicle.objects.for_org(org).get(plate="粤B99999").customer_id == no_phone.pk
    assert Customer.objects.for_org(org).count() == 2
