"""The search box: one query finds customers by name, pinyin, phone, plate or VIN suffix.

Every key is checked against a twin organization holding the same names,
phones, plates and VINs: nothing of it may ever come back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch

from huitou.customers import selectors
from huitou.customers.models import Customer, CustomerTag, Vehicle
from huitou.customers.search import CustomerSearch, SearchKeys, search_keys
from huitou.customers.selectors import LIST_UNREAD, customer_list, tag_names
from huitou.customers.services import (
    customer_delete,
    customer_update,
    vehicle_delete,
    vehicle_transfer,
    vehicle_update,
)
from huitou.customers.trigram import trigram_tables_ensure
from huitou.lib import statements
from huitou.lib.statements import forget_statements
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role
from huitou.tenancy.services import staff_create

VIN = "1M8GDM9AXKP042788"
OTHER_VIN = "LSVNV2187E2100001"


@dataclass
class People:
    zhang_san: Customer
    zhang_sanfeng: Customer
    li_si: Customer
    ouyang: Customer
    zeng: Customer
    twins: dict[str, Customer]  # the other organization's customers, by name


def _file(
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
    organization: Organization,
    by: User,
) -> dict[str, Customer]:
    zhang_san = make_customer(organization=organization, by=by, name="张三", phone="13812345678", stage="member")
    make_vehicle(zhang_san, by=by, plate="粤B12345", vin=VIN)
    zhang_sanfeng = make_customer(organization=organization, by=by, name="张三丰", phone="13900001111", tags=["A类"])
    make_vehicle(zhang_sanfeng, by=by, plate="京AD54321", vin=OTHER_VIN)
    li_si = make_customer(organization=organization, by=by, name="李四", phone="010-87654321", stage="member")
    ouyang = make_customer(organization=organization, by=by, name="欧阳娜娜", phone="13700002222")
    zeng = make_customer(organization=organization, by=by, name="曾小贤", phone="13600003333", tags=["A类"])
    return {c.name: c for c in (zhang_san, zhang_sanfeng, li_si, ouyang, zeng)}


@pytest.fixture
def people(
    org: Organization,
    other_org: Organization,
    advisor: User,
    outsider: User,
    make_customer: Callable[..., Customer],
    make_vehicle: Callable[..., Vehicle],
) -> People:
    twins = _file(make_customer, make_vehicle, other_org, outsider)
    mine = _file(make_customer, make_vehicle, org, advisor)
    return People(mine["张三"], mine["张三丰"], mine["李四"], mine["欧阳娜娜"], mine["曾小贤"], twins)


def found(organization: Organization, q: str = "", **filters: object) -> set[str]:
    return {c.name for c in customer_list(organization=organization, q=q, **filters)}  # type: ignore[arg-type]


def found_ids(organization: Organization, q: str = "", **filters: object) -> set[int]:
    return set(customer_list(organization=organization, q=q, **filters).values_list("pk", flat=True))  # type: ignore[arg-type]


CASES = [
    # name prefix and full name
    ("张", {"张三", "张三丰"}),
    ("张三", {"张三", "张三丰"}),
    ("张三丰", {"张三丰"}),
    ("欧阳", {"欧阳娜娜"}),
    ("李四", {"李四"}),
    ("阳娜娜", {"欧阳娜娜"}),  # three characters or more: anywhere in the name
    ("小贤", set()),  # two: the start of the name only
    # full pinyin, pinyin prefix, initials (any case)
    ("zhangsan", {"张三", "张三丰"}),
    ("zhangsanfeng", {"张三丰"}),
    ("zhang", {"张三", "张三丰"}),
    ("ZhangSan", {"张三", "张三丰"}),
    ("zhang san", {"张三", "张三丰"}),
    ("zs", {"张三", "张三丰"}),
    ("zsf", {"张三丰"}),
    ("ZSF", {"张三丰"}),
    ("ouyang", {"欧阳娜娜"}),
    ("oynn", {"欧阳娜娜"}),
    ("zengxiaoxian", {"曾小贤"}),
    ("zxx", {"曾小贤"}),
    ("lisi", {"李四"}),
    # full phone in several formats, landline too
    ("13812345678", {"张三"}),
    ("138 1234 5678", {"张三"}),
    ("138-1234-5678", {"张三"}),
    ("+8613812345678", {"张三"}),
    ("+86 138 1234 5678", {"张三"}),
    ("010-87654321", {"李四"}),
    ("01087654321", {"李四"}),
    # last four digits of the phone
    ("5678", {"张三"}),
    ("4321", {"李四", "张三丰"}),  # 李四's phone ends 4321, 张三丰's plate 京AD54321 holds it
    ("1111", {"张三丰"}),
    # any part of a plate, with or without the province, any case, 4 characters
    ("粤B12345", {"张三"}),
    ("粤b12345", {"张三"}),
    ("粤b 12345", {"张三"}),
    ("B12345", {"张三"}),
    ("b12345", {"张三"}),
    ("B123", {"张三"}),
    ("b123", {"张三"}),
    ("12345", {"张三"}),
    ("京AD", {"张三丰"}),
    ("ad543", {"张三丰"}),
    ("AD54321", {"张三丰"}),
    # VIN suffix
    ("042788", {"张三"}),
    ("p042788", {"张三"}),
    ("KP042788", {"张三"}),
    ("100001", {"张三丰"}),
    ("E2100001", {"张三丰"}),
]


@pytest.mark.parametrize(("q", "names"), CASES)
def test_it_finds_customers_by_every_key(people: People, org: Organization, q: str, names: set[str]) -> None:
    assert found(org, q) == names


@pytest.mark.parametrize(("q", "names"), CASES)
def test_no_key_leaks_across_organizations(
    people: People, org: Organization, other_org: Organization, q: str, names: set[str]
) -> None:
    twin_ids = {c.pk for c in people.twins.values()}
    mine = found_ids(org, q)
    theirs = found_ids(other_org, q)
    assert not mine & twin_ids
    assert theirs == {people.twins[name].pk for name in names}


@pytest.mark.parametrize("q", ["王", "wang", "wx", "13812340000", "9999", "沪C", "粤B99999", "ZZZZZZ", "张四"])
def test_it_finds_nobody_for_a_query_that_matches_nothing(people: People, org: Organization, q: str) -> None:
    assert found(org, q) == set()


def test_letters_list_initials_matches_first_then_full_pinyin_matches(people: People, org: Organization) -> None:
    # z: initials zs (张三), zsf (张三丰), zxx (曾小贤), in initials order.
    assert [c.name for c in customer_list(organization=org, q="z")] == ["张三", "张三丰", "曾小贤"]
    # zh: no initials start with zh; full pinyin zhangsan, zhangsanfeng.
    assert [c.name for c in customer_list(organization=org, q="zh")] == ["张三", "张三丰"]


def test_a_chinese_name_search_is_ordered_by_pinyin(people: People, org: Organization) -> None:
    assert [c.name for c in customer_list(organization=org, q="张")] == ["张三", "张三丰"]


def test_without_a_query_every_active_customer_is_listed_newest_first(people: People, org: Organization) -> None:
    assert [c.name for c in customer_list(organization=org)] == ["曾小贤", "欧阳娜娜", "李四", "张三丰", "张三"]


def test_a_blank_query_is_no_query(people: People, org: Organization) -> None:
    assert len(found_ids(org, "   ")) == 5


# --- what is no longer there is not found -------------------------------------------------


@pytest.mark.parametrize("q", ["张三", "zhangsan", "zs", "13812345678", "5678", "B12345", "042788"])
def test_a_deleted_customer_is_not_found(people: People, org: Organization, advisor: User, q: str) -> None:
    customer_delete(customer=people.zhang_san, by=advisor)
    assert people.zhang_san.pk not in found_ids(org, q)


@pytest.mark.parametrize("q", ["粤B12345", "B123", "12345", "042788", "KP042788"])
def test_a_deleted_vehicle_is_not_found(people: People, org: Organization, advisor: User, q: str) -> None:
    vehicle_delete(vehicle=Vehicle.objects.for_org(org).get(plate="粤B12345"), by=advisor)
    assert found(org, q) == set()
    assert found(org, "张三") == {"张三", "张三丰"}


def test_a_transferred_vehicle_is_found_with_its_new_owner(people: People, org: Organization, advisor: User) -> None:
    vehicle = Vehicle.objects.for_org(org).get(plate="粤B12345")
    vehicle_transfer(vehicle=vehicle, to_customer=people.li_si, by=advisor)
    assert found(org, "B12345") == {"李四"}


def test_a_renamed_customer_is_found_by_the_new_name_only(people: People, org: Organization, advisor: User) -> None:
    customer_update(customer=people.li_si, by=advisor, data={"name": "王五"})
    assert found(org, "wangwu") == {"王五"}
    assert found(org, "lisi") == set()


def test_a_renamed_customer_is_found_by_a_part_of_the_new_name(
    people: People, org: Organization, advisor: User
) -> None:
    customer_update(customer=people.li_si, by=advisor, data={"name": "司马相如"})
    assert found(org, "马相如") == {"司马相如"}
    assert found(org, "李四") == set()


def test_a_changed_plate_and_vin_are_found_by_their_new_parts_only(
    people: People, org: Organization, advisor: User
) -> None:
    vehicle = Vehicle.objects.for_org(org).get(plate="粤B12345")
    vehicle_update(
        vehicle=vehicle, by=advisor, data={"plate": "粤B67890", "vin": "LFV2A21K7A3000123"}, vin_confirmed=True
    )
    assert found(org, "6789") == {"张三"}
    assert found(org, "000123") == {"张三"}
    assert found(org, "B123") == set()
    assert found(org, "042788") == set()


def test_the_substring_index_comes_back_after_a_table_lost_its_triggers(
    people: People, org: Organization, advisor: User
) -> None:
    """Django rebuilds a SQLite table to alter it, and its triggers go with it: after migrate the
    index tables are mended and refilled (PostgreSQL's trigram indexes need nothing)."""
    if connection.vendor != "sqlite":
        assert trigram_tables_ensure(connection) == []
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER customers_vehicle_trgm_update")
    vehicle = Vehicle.objects.for_org(org).get(plate="粤B12345")
    vehicle_update(vehicle=vehicle, by=advisor, data={"plate": "粤B67890"})
    assert trigram_tables_ensure(connection) == ["customers_vehicle_trgm_update"]
    assert trigram_tables_ensure(connection) == []
    assert found(org, "6789") == {"张三"}
    assert found(org, "2345") == set()


def test_a_plate_typed_with_its_province_is_no_name() -> None:
    assert search_keys("浙A5J710") == SearchKeys(plate_part="浙A5J710")
    assert search_keys("欧阳娜娜") == SearchKeys(name_prefix="欧阳娜娜", name_part="欧阳娜娜")
    # A name as the shop wrote it, digits and all, is still a name.
    assert search_keys("陈05号") == SearchKeys(name_prefix="陈05号", name_part="陈05号")


# --- filters --------------------------------------------------------------------------------


def test_it_filters_by_stage(people: People, org: Organization) -> None:
    assert found(org, stage="member") == {"张三", "李四"}
    assert found(org, "zhang", stage="member") == {"张三"}


def test_it_filters_by_tag(people: People, org: Organization) -> None:
    assert found(org, tag="A类") == {"张三丰", "曾小贤"}
    assert found(org, "z", tag="A类") == {"张三丰", "曾小贤"}
    assert found(org, "zs", tag="A类") == {"张三丰"}
    assert found(org, tag="无此标签") == set()


def test_the_tag_filter_ignores_another_organizations_tags(
    people: People, org: Organization, other_org: Organization, outsider: User
) -> None:
    customer_update(customer=people.twins["李四"], by=outsider, data={"tags": ["隔壁专用"]})
    assert found(org, tag="隔壁专用") == set()
    assert found(other_org, tag="隔壁专用") == {"李四"}


def test_it_filters_by_owner(people: People, org: Organization, advisor: User, service: User) -> None:
    customer_update(customer=people.ouyang, by=advisor, data={"owner": service.pk})
    assert found(org, owner_id=service.pk) == {"欧阳娜娜"}
    assert found(org, "z", owner_id=service.pk) == set()
    assert len(found_ids(org, owner_id=advisor.pk)) == 4


def test_it_filters_by_the_shop_of_the_owner(people: People, org: Organization, advisor: User) -> None:
    west = Shop.objects.for_org(org).get(name="顺达汽修（城西店）")
    main = Shop.objects.for_org(org).get(name="顺达汽修（总店）")
    westerner = staff_create(
        organization=org, username="west", password="x", role=Role.ADVISOR, shops=[west], validate=False
    )
    customer_update(customer=people.zeng, by=advisor, data={"owner": westerner.pk})
    assert found(org, shop_id=main.pk) == {"张三", "张三丰", "李四", "欧阳娜娜"}
    assert found(org, shop_id=west.pk) == {"张三", "张三丰", "李四", "欧阳娜娜", "曾小贤"}


# --- what a query means ---------------------------------------------------------------------


def test_a_digit_query_is_a_phone_a_last4_a_plate_part_and_a_vin_suffix() -> None:
    keys = search_keys("5678")
    assert (keys.last4, keys.plate_part, keys.vin_suffix, keys.pinyin, keys.name_prefix) == (
        "5678",
        "5678",
        "",
        "",
        "",
    )
    assert search_keys("45678") == SearchKeys(plate_part="45678")
    assert search_keys("345678") == SearchKeys(vin_suffix="345678")


def test_a_vin_suffix_takes_the_last_six_characters_or_more() -> None:
    assert search_keys("c2184847").vin_suffix == "C2184847"
    assert search_keys("184847").vin_suffix == "184847"
    assert search_keys("84847").vin_suffix == ""
    assert search_keys("4847").vin_suffix == ""
    assert search_keys("138 1234 5678").phone == "+8613812345678"


def test_a_whole_mobile_number_is_that_phone_only_and_other_long_numbers_may_end_a_vin() -> None:
    assert search_keys("13812345678") == SearchKeys(phone="+8613812345678")
    assert search_keys("23812345678").vin_suffix == "23812345678"  # no mobile number starts with 2
    assert search_keys("2345678").vin_suffix == "2345678"


def test_a_chinese_query_is_a_name_and_maybe_a_plate() -> None:
    assert search_keys("张三").name_prefix == "张三"
    assert search_keys("张三").plate_part == ""
    assert search_keys("粤b 123").plate_part == "粤B123"


def test_a_latin_query_is_pinyin_and_a_plate_part() -> None:
    assert search_keys("ZS") == SearchKeys(pinyin="zs")  # two letters: initials only
    keys = search_keys("ZSF")
    assert (keys.pinyin, keys.plate_part) == ("zsf", "ZSF")
    assert search_keys("B1") == SearchKeys(plate_part="B1")  # with a digit: the plate after the province


def test_letters_that_no_plate_or_vin_holds_are_a_name_only() -> None:
    # I and O are never on a plate; I, O and Q never in a VIN.
    assert search_keys("zhangwei") == SearchKeys(pinyin="zhangwei")
    assert (search_keys("ouyang").plate_part, search_keys("ouyang").vin_suffix) == ("", "")
    assert (search_keys("zhq").plate_part, search_keys("zhqa").vin_suffix) == ("ZHQ", "")


# --- query count ----------------------------------------------------------------------------


@pytest.fixture
def crowd(org: Organization, advisor: User, make_customer: Callable[..., Customer]) -> None:
    """25 customers named 张..., each with two tags, so a page is full and the prefetch has work."""
    for n in range(25):
        make_customer(name=f"张{'一二三四五六七八九十'[n % 10]}{n}", tags=["A类", f"标签{n % 3}"])


def _api_page(
    organization: Organization, q: str, start: int = 0
) -> tuple[int, list[tuple[str, str, str | None, list[str]]]]:
    """Evaluate a search the way GET /api/v1/customers does: one page with its tags, then the count."""
    tags = Prefetch("tag_links", queryset=CustomerTag.objects.select_related("tag").order_by("tag__name"))
    customers = customer_list(organization=organization, q=q).prefetch_related(tags)
    page = list(customers[start : start + 20])
    rows = [(c.name, c.owner.username, c.source.code if c.source_id else None, tag_names(c)) for c in page]
    return customers.count(), rows


def _list_page(organization: Organization, q: str) -> tuple[int, list[str]]:
    """Evaluate a search the way the customer list page does: Paginator counts first, then the page."""
    page = Paginator(customer_list(organization=organization, q=q), 20).get_page(1)
    return page.paginator.count, [c.name for c in page.object_list]


@pytest.fixture
def three_meanings(
    org: Organization, make_customer: Callable[..., Customer], make_vehicle: Callable[..., Vehicle]
) -> None:
    """For "zha": 张红安 by initials (zha), 张伟 by full pinyin (zhangwei), 李四 by a plate (粤ZHA123)."""
    make_customer(name="张伟")
    make_customer(name="张红安")
    make_vehicle(make_customer(name="李四"), plate="粤ZHA123")


def test_a_name_search_page_and_its_count_take_two_queries(
    crowd: None, org: Organization, django_assert_num_queries: Callable[..., object]
) -> None:
    # 1 the page with owner and source joined and the number of matches, 2 the tags of the page
    with django_assert_num_queries(2):
        count, rows = _api_page(org, "张")
    assert count == 25 and len(rows) == 20
    assert all("A类" in tags for *_rest, tags in rows)


def test_a_letters_search_page_and_its_count_take_two_queries(
    crowd: None, three_meanings: None, org: Organization, django_assert_num_queries: Callable[..., object]
) -> None:
    # 1 the page's customers with owner and source, their ids taken from every
    # meaning (initials, full pinyin, vehicles) and the capped counts alongside,
    # 2 their tags.
    with django_assert_num_queries(2):
        count, rows = _api_page(org, "zha")
    assert count == 28 and len(rows) == 20
    assert rows[0][0] == "张红安"


@pytest.mark.parametrize("q", ["张", "zha", "ZHA12", ""])
def test_with_tags_the_page_brings_each_customers_tag_names_sorted_in_its_own_statement(
    crowd: None, three_meanings: None, org: Organization, q: str, django_assert_num_queries: Callable[..., object]
) -> None:
    customers = customer_list(organization=org, q=q, with_tags=True)
    with django_assert_num_queries(1):
        page = list(customers[0:20])
    tagged = {c.name: tag_names(c) for c in page}
    assert tagged == {c.name: sorted(t.tag.name for t in c.tag_links.all()) for c in page}
    assert any(tagged.values()) if q != "ZHA12" else tagged == {"李四": []}


def test_a_phone_search_page_and_its_count_take_two_queries(
    crowd: None, org: Organization, django_assert_num_queries: Callable[..., object]
) -> None:
    # 1 the page and its count, the vehicles (the digits may be a plate part or
    # VIN suffix) looked up in the same statement, 2 the tags
    with django_assert_num_queries(2):
        count, rows = _api_page(org, "13900000003")
    assert count == 1 and rows[0][0] == "张四3"


def test_a_plate_search_page_and_its_count_take_two_queries(
    three_meanings: None, org: Organization, django_assert_num_queries: Callable[..., object]
) -> None:
    # 1 the page with the vehicles' customers and the count, 2 the tags
    with django_assert_num_queries(2):
        count, rows = _api_page(org, "ZHA12")
    assert count == 1 and rows[0][0] == "李四"


@pytest.mark.parametrize("q", ["张", "zha", "13900000003"])
def test_counting_before_the_page_takes_one_query_more(
    crowd: None, three_meanings: None, org: Organization, q: str, django_assert_num_queries: Callable[..., object]
) -> None:
    # 1 the count, 2 the page with owner and source (the list page's Paginator counts first)
    with django_assert_num_queries(2):
        count, names = _list_page(org, q)
    assert (count, names) == (_api_page(org, q)[0], [name for name, *_rest in _api_page(org, q)[1]])


def test_a_letters_search_lists_initials_then_full_pinyin_then_vehicles(
    three_meanings: None, org: Organization
) -> None:
    results = customer_list(organization=org, q="zha")
    assert [c.name for c in results[0:10]] == ["张红安", "张伟", "李四"]
    assert [c.name for c in results[1:3]] == ["张伟", "李四"]
    assert results.count() == 3


@pytest.mark.parametrize("q", ["zha", "张", "ZHA12", "13900000003"])
def test_a_page_past_the_end_is_empty_and_the_count_still_right(
    crowd: None, three_meanings: None, org: Organization, q: str
) -> None:
    count = customer_list(organization=org, q=q).count()
    results = customer_list(organization=org, q=q)
    assert list(results[40:60]) == []
    assert results.count() == count > 0


def test_each_meaning_of_letters_counts_and_lists_at_most_the_limit(
    crowd: None, three_meanings: None, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("huitou.customers.search.SEARCH_COUNT_LIMIT", 2)
    results = customer_list(organization=org, q="zha")
    # initials: 张红安; full pinyin: the first two of 26 (zhangba17, zhangba7); vehicles: 李四
    assert [c.name for c in results[0:20]] == ["张红安", "张八17", "张八7", "李四"]
    assert results.count() == 4


def test_letters_search_pages_follow_on_across_meanings(people: People, org: Organization) -> None:
    results = customer_list(organization=org, q="z")
    everyone = [c.name for c in results[0:10]]
    assert [c.name for c in results[0:1]] + [c.name for c in results[1:10]] == everyone
    assert results.count() == len(everyone)


# The counter's search box keeps its statements per shape of query
# (huitou.lib.statements): the rows must be those of a statement built for
# the query itself, key after key, page after page, in either organization.
KEPT_QUERIES = [q for q, _names in CASES] + ["B1", "b1", "粤B1", "沪C", "张_", "13%", "4_21", "王", "9999", "ZZZZZZ"]


def _pages(search: CustomerSearch) -> tuple[list[tuple[int, int]], int, list[int]]:
    first = [(c.pk, c.search_total) for c in search[0:20]]  # type: ignore[attr-defined]
    return first, search.count(), [c.pk for c in search[1:3]]


@pytest.mark.parametrize(("with_tags", "unread"), [(True, ()), (False, ()), (True, LIST_UNREAD)])
def test_kept_search_statements_give_the_rows_of_a_statement_built_for_the_query(
    people: People, org: Organization, other_org: Organization, with_tags: bool, unread: tuple[str, ...]
) -> None:
    forget_statements()
    for _round in range(2):
        for organization in (org, other_org):
            for q in KEPT_QUERIES:
                kept = customer_list(organization=organization, q=q, with_tags=with_tags, unread=unread)
                assert isinstance(kept, CustomerSearch) and kept.statement_key is not None
                fresh = type(kept)(kept.base, kept.organization, kept.text)
                assert _pages(kept) == _pages(fresh), q
                tags = [tag_names(c) for c in kept[0:20]] if with_tags else []
                assert tags == ([tag_names(c) for c in fresh[0:20]] if with_tags else [])
                deferred = [c.get_deferred_fields() for c in kept[0:20]]
                assert deferred == [c.get_deferred_fields() for c in fresh[0:20]]
    shapes = list(statements._kept().values())
    # Every shape of search is kept; none is left to Django.
    assert shapes and not [s for s in shapes if isinstance(s, statements._NotKept)]


def test_a_filtered_search_builds_its_statement_each_time(people: People, org: Organization) -> None:
    search = customer_list(organization=org, q="张", stage="member")
    assert isinstance(search, CustomerSearch) and search.statement_key is None
    assert [c.name for c in search[0:20]] == ["张三"]


@pytest.mark.parametrize(
    "given",
    [
        {"stage": "member"},
        {"tag": "VIP"},
        {"owner_id": 1},
        {"shop_id": 1},
        {"customer_grade": "A"},
        {"segment": "champions"},
        {"tags": ["VIP"]},
        {"tier_id": 1},
        {"last_visit_before_days": 30},
        {"last_visit_within_days": 30},
        {"spend_min": "100"},
        {"spend_max": "100"},
        {"brand": "丰田"},
        {"vehicle_age_min": 1},
        {"vehicle_age_max": 9},
        {"within": Customer.objects.none().values("pk")},
    ],
)
def test_any_filter_beside_the_search_box_makes_the_search_unkept(org: Organization, given: dict) -> None:
    # A kept statement is keyed by the search box alone: a filter it did not hold would be dropped.
    search = customer_list(organization=org, q="张", **given)
    assert isinstance(search, CustomerSearch) and search.statement_key is None
    assert "base" in search.__dict__  # the filtered queryset, built with the filter


def test_a_kept_search_shape_builds_no_queryset(
    people: People, org: Organization, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    forget_statements()
    first = customer_list(organization=org, q="张三", with_tags=True)
    assert [c.name for c in first[0:20]] == ["张三", "张三丰"]
    built: list[object] = []
    listed = selectors._listed
    monkeypatch.setattr(selectors, "_listed", lambda *a, **k: built.append(a) or listed(*a, **k))
    again = customer_list(organization=org, q="李四", with_tags=True)
    with django_assert_num_queries(1):  # the kept statement: the page with its count
        assert [c.name for c in again[0:20]] == ["李四"]
        assert again.count() == 1
    assert built == []  # nothing built for a shape already kept


def test_keys_given_other_values_keep_their_shape_and_plate_mode() -> None:
    keys = search_keys("B1")  # two characters: the plate's start after the province
    given = keys.with_values(["ZZZZ"])
    assert given.values() == ["ZZZZ"] and given.present() == keys.present()
    assert given.plate_mode() == keys.plate_mode() == "tail"
