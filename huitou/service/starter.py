"""A starter catalog and opening hours for a new shop, editable afterwards.

Prices are typical of an independent repair and detailing shop in a
Chinese second-tier city; every shop changes them to its own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from huitou.service.models import Category, OpeningHours, Part, ServiceItem
from huitou.tenancy.models import Organization, Shop

# code, category, name, labour price, standard hours, interval km, interval months
SERVICES: tuple[tuple[str, str, str, str, str, int | None, int | None], ...] = (
    ("M01", Category.MAINTENANCE, "小保养（机油+机滤）", "80", "0.5", 5000, 6),
    ("M02", Category.MAINTENANCE, "大保养（三滤+机油）", "180", "1.5", 20000, 12),
    ("M03", Category.MAINTENANCE, "更换空调滤芯", "30", "0.3", 10000, 12),
    ("M04", Category.MAINTENANCE, "更换刹车油", "120", "0.8", 40000, 24),
    ("M05", Category.MAINTENANCE, "更换变速箱油", "200", "1.2", 60000, 48),
    ("M06", Category.MAINTENANCE, "更换火花塞", "120", "0.8", 40000, None),
    ("M07", Category.MAINTENANCE, "更换防冻液", "80", "0.5", 40000, 24),
    ("M08", Category.MAINTENANCE, "节气门清洗", "150", "0.8", 20000, None),
    ("R01", Category.REPAIR, "更换前刹车片", "150", "1.0", None, None),
    ("R02", Category.REPAIR, "更换后刹车片", "150", "1.0", None, None),
    ("R03", Category.REPAIR, "更换蓄电池", "50", "0.3", None, 36),
    ("R04", Category.REPAIR, "更换雨刮片", "20", "0.2", None, 12),
    ("R05", Category.REPAIR, "空调检修加氟", "180", "1.0", None, None),
    ("R06", Category.REPAIR, "底盘异响检修", "200", "1.5", None, None),
    ("R07", Category.REPAIR, "钣金喷漆（单面）", "600", "4.0", None, None),
    ("D01", Category.DETAILING, "标准洗车", "40", "0.3", None, None),
    ("D02", Category.DETAILING, "精致洗车（含内饰）", "80", "0.8", None, None),
    ("D03", Category.DETAILING, "打蜡", "150", "1.0", None, 3),
    ("D04", Category.DETAILING, "全车抛光", "400", "3.0", None, None),
    ("D05", Category.DETAILING, "内饰清洗消毒", "280", "2.5", None, 6),
    ("D06", Category.DETAILING, "镀晶", "1200", "5.0", None, 12),
    ("D07", Category.DETAILING, "全车贴膜（隔热膜）", "2800", "6.0", None, None),
    ("T01", Category.TYRES, "四轮定位", "120", "0.8", 20000, 12),
    ("T02", Category.TYRES, "动平衡（四轮）", "80", "0.5", 10000, None),
    ("T03", Category.TYRES, "轮胎换位", "60", "0.5", 10000, None),
    ("T04", Category.TYRES, "补胎", "30", "0.3", None, None),
    ("I01", Category.INSPECTION, "年检代办", "200", "0.5", None, 12),
    ("I02", Category.INSPECTION, "全车安全检测", "0", "0.5", None, 6),
    ("I03", Category.INSPECTION, "新能源三电检测", "99", "1.0", 10000, 12),
)

# code, name, unit, sale price, cost
PARTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("P001", "全合成机油 5W-30（4L）", "桶", "368", "210"),
    ("P002", "半合成机油 5W-40（4L）", "桶", "228", "130"),
    ("P003", "机油滤清器", "个", "45", "18"),
    ("P004", "空气滤清器", "个", "68", "28"),
    ("P005", "空调滤清器", "个", "58", "22"),
    ("P006", "汽油滤清器", "个", "85", "35"),
    ("P007", "前刹车片（套）", "套", "380", "190"),
    ("P008", "后刹车片（套）", "套", "320", "160"),
    ("P009", "DOT4 刹车油（1L）", "瓶", "88", "40"),
    ("P010", "铱金火花塞", "个", "98", "45"),
    ("P011", "蓄电池 60Ah", "个", "580", "360"),
    ("P012", "无骨雨刮片（对）", "对", "128", "50"),
    ("P013", "防冻液（4L）", "桶", "138", "60"),
    ("P014", "自动变速箱油（1L）", "升", "98", "45"),
    ("P015", "轮胎 205/55 R16", "条", "520", "360"),
    ("P016", "轮胎 225/60 R18", "条", "780", "540"),
    ("P017", "车蜡", "瓶", "120", "45"),
    ("P018", "玻璃水（2L）", "瓶", "25", "8"),
)


def catalog_seed(*, organization: Organization) -> int:
    """Create the starter services and parts the organization does not have yet (by code)."""
    have_services = set(ServiceItem.objects.for_org(organization).values_list("code", flat=True))
    have_parts = set(Part.objects.for_org(organization).values_list("code", flat=True))
    services = [
        ServiceItem(
            organization=organization,
            code=code,
            category=category,
            name=name,
            labour_price=Decimal(price),
            standard_hours=Decimal(hours),
            interval_km=km,
            interval_months=months,
        )
        for code, category, name, price, hours, km, months in SERVICES
        if code not in have_services
    ]
    parts = [
        Part(
            organization=organization,
            code=code,
            name=name,
            unit=unit,
            sale_price=Decimal(price),
            cost=Decimal(cost),
        )
        for code, name, unit, price, cost in PARTS
        if code not in have_parts
    ]
    with transaction.atomic():
        ServiceItem.objects.bulk_create(services)
        Part.objects.bulk_create(parts)
    return len(services) + len(parts)


def opening_hours_seed(*, shop: Shop, bays: int = 3) -> None:
    """Every day 08:30–18:30 in one-hour slots, the usual hours of a neighbourhood shop."""
    for weekday in range(7):
        OpeningHours.objects.get_or_create(
            organization_id=shop.organization_id,
            shop=shop,
            weekday=weekday,
            defaults={"opens": dt.time(8, 30), "closes": dt.time(18, 30), "slot_minutes": 60, "bays": bays},
        )
