"""Registering and editing customer files: normalisation, validation, uniqueness, history, tags."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from huitou.audit.models import ChangeEntry
from huitou.customers import errors
from huitou.customers.models import Customer, CustomerTag, Stage, Tag
from huitou.customers.services import customer_create, customer_delete, customer_restore, customer_update
from huitou.tenancy.models import Organization, User


def refused(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    """The messages a refusal gives for one field."""
    return exc.value.message_dict.get(field, [])


def create(org: Organization, by: User, **data: Any) -> Customer:
    data.setdefault("name", "张三")
    return customer_create(organization=org, by=by, data=data)


# --- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678"])
def test_it_stores_the_phone_in_e164_with_its_last_four_digits(org: Organization, advisor: User, raw: str) -> None:
    customer = create(org, advisor, phone=raw)
    customer.refresh_from_db()
    assert customer.phone == "+8613812345678"
    assert customer.phone_last4 == "5678"


def test_it_stores_a_landline_with_its_area_code(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="010-12345678")
    customer.refresh_from_db()
    assert (customer.phone, customer.phone_last4, customer.phone_display) == ("+861012345678", "5678", "01012345678")


def test_it_fills_the_pinyin_search_keys(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, name=" 张三 ", phone="13812345678")
    customer.refresh_from_db()
    assert (customer.name, customer.name_pinyin, customer.name_initials) == ("张三", "zhangsan", "zs")


def test_renaming_a_customer_refreshes_the_pinyin_keys(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    customer_update(customer=customer, by=advisor, data={"name": "曾小贤"})
    customer.refresh_from_db()
    assert (customer.name_pinyin, customer.name_initials) == ("zengxiaoxian", "zxx")


def test_clearing_the_phone_clears_its_last_four_digits(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    customer_update(customer=customer, by=advisor, data={"phone": ""})
    customer.refresh_from_db()
    assert (customer.phone, customer.phone_last4) == ("", "")


def test_a_new_customer_is_a_prospect(org: Organization, advisor: User) -> None:
    assert create(org, advisor).stage == Stage.PROSPECT


# --- owner -------------------------------------------------------------------------------


def test_the_owner_defaults_to_the_creating_user(org: Organization, advisor: User) -> None:
    customer = create(org, advisor)
    customer.refresh_from_db()
    assert customer.owner == advisor
    assert customer.created_by == advisor


def test_another_active_staff_member_can_be_the_owner(org: Organization, advisor: User, service: User) -> None:
    customer = create(org, advisor, owner=service.pk)
    customer.refresh_from_db()
    assert customer.owner == service


def test_it_refuses_an_owner_of_another_organization(org: Organization, advisor: User, outsider: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, owner=outsider.pk)
    assert refused(exc, "owner") == [errors.OWNER_INVALID]
    assert not Customer.objects.for_org(org).exists()


def test_it_refuses_an_inactive_owner(org: Organization, advisor: User, service: User) -> None:
    service.is_active = False
    service.save()
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, owner=service.pk)
    assert refused(exc, "owner") == [errors.OWNER_INVALID]


@pytest.mark.parametrize("owner_value", ["abc", 999_999, ""])
def test_it_refuses_an_owner_that_is_no_staff_id(org: Organization, advisor: User, owner_value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, owner=owner_value)
    assert errors.OWNER_INVALID in refused(exc, "owner")


def test_it_refuses_a_creator_of_another_organization_as_the_default_owner(org: Organization, outsider: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, outsider, phone="13812345678")
    assert refused(exc, "owner") == [errors.OWNER_INVALID]
    assert "phone" not in exc.value.message_dict


def test_it_refuses_a_customer_without_creator_or_owner(org: Organization) -> None:
    with pytest.raises(ValidationError) as exc:
        customer_create(organization=org, by=None, data={"name": "张三"})
    assert refused(exc, "owner") == [errors.OWNER_INVALID]


def test_update_refuses_an_owner_of_another_organization(org: Organization, advisor: User, outsider: User) -> None:
    customer = create(org, advisor)
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, by=advisor, data={"owner": outsider.pk})
    assert refused(exc, "owner") == [errors.OWNER_INVALID]
    customer.refresh_from_db()
    assert customer.owner == advisor


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", None])
def test_it_refuses_a_customer_without_a_name(org: Organization, advisor: User, name: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, name=name)
    assert refused(exc, "name") == [errors.NAME_REQUIRED]


@pytest.mark.parametrize("phone", ["12345", "1381234567", "abc", "138123456789"])
def test_it_refuses_an_invalid_phone(org: Organization, advisor: User, phone: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, phone=phone)
    assert refused(exc, "phone") == [errors.PHONE_INVALID]


def test_it_reports_every_refused_field_at_once(org: Organization, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, name="", phone="12345", email="nope", stage="nope")
    assert set(exc.value.message_dict) == {"name", "phone", "email", "stage"}


@pytest.mark.parametrize("email", ["nope", "a@", "@b.cn", "zhang san@qq.com"])
def test_it_refuses_an_invalid_email(org: Organization, advisor: User, email: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, email=email)
    assert refused(exc, "email") == [errors.EMAIL_INVALID]


def test_it_accepts_a_valid_email(org: Organization, advisor: User) -> None:
    assert create(org, advisor, email=" zhangsan@qq.com ").email == "zhangsan@qq.com"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"birth_month": 2, "birth_day": 30}, "birth_day", errors.BIRTHDAY_INVALID),
        ({"birth_month": 4, "birth_day": 31}, "birth_day", errors.BIRTHDAY_INVALID),
        ({"birth_month": 13, "birth_day": 1}, "birth_day", errors.BIRTHDAY_INVALID),
        ({"birth_month": 2, "birth_day": 29, "birth_year": 1987}, "birth_day", errors.BIRTHDAY_INVALID),
        (
            {"birth_month": 1, "birth_day": 31, "birthday_calendar": "lunar"},
            "birth_day",
            errors.BIRTHDAY_INVALID,
        ),
        ({"birth_month": 5}, "birth_day", errors.BIRTHDAY_INCOMPLETE),
        ({"birth_day": 5}, "birth_month", errors.BIRTHDAY_INCOMPLETE),
        ({"birth_month": "five", "birth_day": 5}, "birth_month", errors.BIRTHDAY_INVALID),
        ({"birth_year": 1800}, "birth_year", errors.BIRTH_YEAR_INVALID),
        ({"birth_year": 2999}, "birth_year", errors.BIRTH_YEAR_INVALID),
        ({"birth_year": "abc"}, "birth_year", errors.BIRTH_YEAR_INVALID),
    ],
)
def test_it_refuses_an_invalid_birthday(
    org: Organization, advisor: User, data: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, **data)
    assert message in refused(exc, field)


def test_it_accepts_a_lunar_30th_and_29_february_without_a_year(org: Organization, advisor: User) -> None:
    lunar = create(org, advisor, birth_month=2, birth_day=30, birthday_calendar="lunar")
    solar = create(org, advisor, name="李四", birth_month=2, birth_day=29)
    assert (lunar.birth_month, lunar.birth_day, lunar.birthday_calendar) == (2, 30, "lunar")
    assert (solar.birth_month, solar.birth_day, solar.birthday_calendar) == (2, 29, "solar")


def test_it_refuses_an_unknown_source_code(org: Organization, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, source="tv_advert")
    assert refused(exc, "source") == [errors.SOURCE_INVALID]


def test_it_takes_the_source_of_the_customers_own_organization(
    org: Organization, other_org: Organization, advisor: User
) -> None:
    customer = create(org, advisor, source="referral")
    customer.refresh_from_db()
    assert customer.source is not None
    assert (customer.source.code, customer.source.organization_id) == ("referral", org.pk)


@pytest.mark.parametrize("field", ["gender", "birthday_calendar", "age_bracket", "preferred_channel"])
def test_it_refuses_an_invalid_choice(org: Organization, advisor: User, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, **{field: "nonsense"})
    assert refused(exc, field) == [errors.CHOICE_INVALID]


def test_the_stage_is_not_set_through_the_file(org: Organization, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, stage="customer")
    assert refused(exc, "stage") == [errors.STAGE_NOT_HERE]
    customer = create(org, advisor)
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, by=advisor, data={"stage": "member"})
    assert refused(exc, "stage") == [errors.STAGE_NOT_HERE]
    customer.refresh_from_db()
    assert customer.stage == "prospect"


def test_it_accepts_every_offered_choice(org: Organization, advisor: User) -> None:
    customer = create(
        org,
        advisor,
        gender="female",
        birthday_calendar="lunar",
        age_bracket="35_44",
        preferred_channel="wechat",
    )
    customer.refresh_from_db()
    assert (customer.gender, customer.age_bracket, customer.preferred_channel) == (
        "female",
        "35_44",
        "wechat",
    )
    assert customer.birthday_calendar == "lunar"


@pytest.mark.parametrize("field", ["gender", "age_bracket", "preferred_channel", "birthday_calendar"])
def test_an_empty_choice_falls_back_to_the_default(org: Organization, advisor: User, field: str) -> None:
    customer = create(org, advisor, gender="male", age_bracket="25_34", preferred_channel="sms")
    customer_update(customer=customer, by=advisor, data={field: ""})
    customer.refresh_from_db()
    assert getattr(customer, field) == Customer._meta.get_field(field).get_default()


def test_updating_a_deleted_customer_is_refused(org: Organization, advisor: User) -> None:
    customer = create(org, advisor)
    customer_delete(customer=customer, by=advisor)
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, by=advisor, data={"occupation": "教师"})
    assert exc.value.messages == [errors.CUSTOMER_DELETED]


# --- phone uniqueness per organization ---------------------------------------------------


def test_it_refuses_a_phone_already_used_in_the_organization(org: Organization, advisor: User) -> None:
    create(org, advisor, phone="13812345678")
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, name="李四", phone="+86 138-1234-5678")
    assert refused(exc, "phone") == [errors.PHONE_TAKEN]
    assert Customer.objects.for_org(org).count() == 1


def test_the_same_phone_is_allowed_in_another_organization(
    org: Organization, other_org: Organization, advisor: User, outsider: User
) -> None:
    create(org, advisor, phone="13812345678")
    twin = create(other_org, outsider, phone="13812345678")
    assert twin.phone == "+8613812345678"


def test_the_phone_is_free_again_once_the_customer_is_deleted(org: Organization, advisor: User) -> None:
    first = create(org, advisor, phone="13812345678")
    customer_delete(customer=first, by=advisor)
    second = create(org, advisor, name="李四", phone="13812345678")
    assert second.phone == first.phone


def test_update_refuses_a_phone_of_another_customer(org: Organization, advisor: User) -> None:
    create(org, advisor, phone="13812345678")
    other = create(org, advisor, name="李四", phone="13900001111")
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=other, by=advisor, data={"phone": "138 1234 5678"})
    assert refused(exc, "phone") == [errors.PHONE_TAKEN]
    other.refresh_from_db()
    assert other.phone == "+8613900001111"


def test_update_keeps_the_customers_own_phone(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    customer_update(customer=customer, by=advisor, data={"phone": "138-1234-5678", "occupation": "教师"})
    customer.refresh_from_db()
    assert (customer.phone, customer.occupation) == ("+8613812345678", "教师")


def test_restoring_is_refused_when_the_phone_was_taken_meanwhile(org: Organization, advisor: User) -> None:
    first = create(org, advisor, phone="13812345678")
    customer_delete(customer=first, by=advisor)
    create(org, advisor, name="李四", phone="13812345678")
    with pytest.raises(ValidationError) as exc:
        customer_restore(customer=Customer.objects.for_org(first.organization_id).get(pk=first.pk), by=advisor)
    assert refused(exc, "phone") == [errors.PHONE_TAKEN]
    assert Customer.objects.for_org(first.organization_id).get(pk=first.pk).deleted_at is not None


def test_several_customers_may_have_no_phone(org: Organization, advisor: User) -> None:
    create(org, advisor, wechat="zhangsan88")
    create(org, advisor, name="李四", wechat="lisi99")
    assert Customer.objects.for_org(org).filter(phone="").count() == 2


# --- history of edits --------------------------------------------------------------------


def test_creating_a_customer_records_who_created_it_with_what(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678", occupation="教师")
    entry = ChangeEntry.objects.for_org(org).get(subject_type="customer", subject_id=customer.pk)
    assert (entry.action, entry.actor, entry.customer_id, entry.organization_id) == (
        ChangeEntry.Action.CREATED,
        advisor,
        customer.pk,
        org.pk,
    )
    assert entry.changes["name"] == [None, "张三"]
    assert entry.changes["phone"] == [None, "+8613812345678"]
    assert entry.changes["occupation"] == [None, "教师"]
    assert "wechat" not in entry.changes


def test_update_records_field_level_old_and_new_values_and_the_actor(
    org: Organization, advisor: User, owner: User
) -> None:
    customer = create(org, advisor, phone="13812345678", occupation="教师")
    customer_update(
        customer=customer,
        by=owner,
        data={"occupation": "出租车司机", "phone": "13911112222", "hobbies": "钓鱼", "name": "张三"},
    )
    entry = ChangeEntry.objects.for_org(org).filter(subject_id=customer.pk, action=ChangeEntry.Action.UPDATED).get()
    assert entry.actor == owner
    assert (entry.customer_id, entry.organization_id) == (customer.pk, org.pk)
    assert entry.changes == {
        "occupation": ["教师", "出租车司机"],
        "phone": ["+8613812345678", "+8613911112222"],
        "hobbies": ["", "钓鱼"],
    }


def test_an_update_that_changes_nothing_records_nothing(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678", occupation="教师")
    before = ChangeEntry.objects.for_org(org).count()
    customer_update(customer=customer, by=advisor, data={"phone": "138 1234 5678", "occupation": " 教师 "})
    assert ChangeEntry.objects.for_org(org).count() == before


def test_changing_only_the_owner_is_recorded_as_an_owner_change(
    org: Organization, advisor: User, service: User
) -> None:
    customer = create(org, advisor)
    customer_update(customer=customer, by=advisor, data={"owner": service.pk})
    entry = ChangeEntry.objects.for_org(org).filter(subject_id=customer.pk).order_by("-pk").first()
    assert entry is not None
    assert entry.action == ChangeEntry.Action.OWNER_CHANGED
    assert entry.changes == {"owner": [str(advisor), str(service)]}


def test_a_refused_update_records_nothing_and_changes_nothing(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    before = ChangeEntry.objects.for_org(org).count()
    with pytest.raises(ValidationError):
        customer_update(customer=customer, by=advisor, data={"occupation": "教师", "email": "nope"})
    assert ChangeEntry.objects.for_org(org).count() == before
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).occupation == ""


def test_a_refused_update_leaves_the_object_as_stored_so_a_retry_saves(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    with pytest.raises(ValidationError):
        customer_update(customer=customer, by=advisor, data={"occupation": "教师", "phone": "12345"})
    assert (customer.occupation, customer.phone) == ("", "+8613812345678")
    customer_update(customer=customer, by=advisor, data={"occupation": "教师"})
    assert Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).occupation == "教师"


# --- tags --------------------------------------------------------------------------------


def _tag_names(customer: Customer) -> list[str]:
    return sorted(CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True))


def test_it_sets_tags_on_creation(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, tags=["A类", " 转介绍 ", "A类", ""])
    assert _tag_names(customer) == ["A类", "转介绍"]
    assert set(Tag.objects.for_org(org).values_list("organization_id", flat=True)) == {org.pk}


def test_update_adds_and_removes_tags_and_records_them(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, tags=["A类", "转介绍"])
    customer_update(customer=customer, by=advisor, data={"tags": ["转介绍", "爱车如命"]})
    assert _tag_names(customer) == ["爱车如命", "转介绍"]
    entry = ChangeEntry.objects.for_org(org).filter(subject_id=customer.pk, action=ChangeEntry.Action.UPDATED).get()
    assert entry.changes == {"tags": [["A类", "转介绍"], ["爱车如命", "转介绍"]]}


def test_an_empty_tag_list_removes_every_tag(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, tags=["A类"])
    customer_update(customer=customer, by=advisor, data={"tags": []})
    assert _tag_names(customer) == []
    assert Tag.objects.for_org(org).filter(name="A类").exists(), "the tag itself stays for other customers"


def test_an_update_without_tags_leaves_them_alone(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, tags=["A类"])
    customer_update(customer=customer, by=advisor, data={"occupation": "教师"})
    assert _tag_names(customer) == ["A类"]


def test_tags_of_the_same_name_are_separate_per_organization(
    org: Organization, other_org: Organization, advisor: User, outsider: User
) -> None:
    mine = create(org, advisor, tags=["A类"])
    theirs = create(other_org, outsider, tags=["A类"])
    assert Tag.objects.filter(organization__in=[org, other_org], name="A类").count() == 2
    mine_tag = CustomerTag.objects.get(customer=mine).tag
    theirs_tag = CustomerTag.objects.get(customer=theirs).tag
    assert (mine_tag.organization_id, theirs_tag.organization_id) == (org.pk, other_org.pk)


# --- completeness ------------------------------------------------------------------------


def _stored_completeness(customer: Customer) -> int:
    return Customer.objects.for_org(customer.organization_id).get(pk=customer.pk).completeness


def test_completeness_is_computed_on_creation(org: Organization, advisor: User) -> None:
    # name and phone: 2 of 9 hard facts -> 20 * 2/9 = 4.4
    assert _stored_completeness(create(org, advisor, phone="13812345678")) == 4


def test_completeness_follows_soft_profile_changes(org: Organization, advisor: User) -> None:
    customer = create(org, advisor, phone="13812345678")
    customer_update(customer=customer, by=advisor, data={"occupation": "教师", "hobbies": "钓鱼"})
    # 20 * 2/9 + 80 * 2/10 = 4.4 + 16
    assert _stored_completeness(customer) == 20
    customer_update(customer=customer, by=advisor, data={"hobbies": ""})
    assert _stored_completeness(customer) == 12


def test_completeness_follows_vehicles(org: Organization, advisor: User, make_vehicle: Callable[..., Any]) -> None:
    from huitou.customers.services import vehicle_delete

    customer = create(org, advisor, phone="13812345678")
    vehicle = make_vehicle(customer)
    # name, phone, vehicle: 20 * 3/9 = 6.7
    assert _stored_completeness(customer) == 7
    vehicle_delete(vehicle=vehicle, by=advisor)
    assert _stored_completeness(customer) == 4


def test_a_full_file_is_100_complete(org: Organization, advisor: User, make_vehicle: Callable[..., Any]) -> None:
    customer = customer_create(
        organization=org,
        by=advisor,
        data={
            "name": "张三",
            "gender": "male",
            "phone": "13812345678",
            "wechat": "zhangsan88",
            "email": "zs@qq.com",
            "address": "深圳市南山区",
            "birth_month": 8,
            "birth_day": 15,
            "birthday_calendar": "lunar",
            "age_bracket": "35_44",
            "occupation": "教师",
            "family": "已婚，一个女儿",
            "personality": "爽快",
            "habits": "只做原厂保养",
            "hobbies": "钓鱼",
            "lifestyle": "周末自驾",
            "values": "重视诚信",
            "preferred_channel": "wechat",
            "preferred_time": "晚上",
        },
        consents={"wechat": True},
        consent_purpose="保养提醒",
    )
    assert _stored_completeness(customer) == 98  # everything but the vehicle: 20 * 8/9 + 80 = 97.8
    make_vehicle(customer)
    assert _stored_completeness(customer) == 100


def test_it_refuses_a_tag_longer_than_thirty_characters(org: Organization, advisor: User) -> None:
    with pytest.raises(ValidationError) as exc:
        create(org, advisor, tags=["VIP", "这" * 31])
    assert exc.value.message_dict["tags"] == [str(errors.TAG_TOO_LONG)]
    assert not Customer.objects.for_org(org).exists()


def test_an_update_from_an_older_copy_keeps_what_changed_since(org: Organization, advisor: User) -> None:
    customer = customer_create(organization=org, by=advisor, data={"name": "周杰", "phone": "13800138000"})
    copy = Customer.objects.for_org(org).get(pk=customer.pk)  # an edit form opened before the payment
    paid = timezone.now()
    Customer.objects.for_org(org).filter(pk=customer.pk).update(
        converted_at=paid, visit_count=1, lifetime_spend=Decimal("480.00"), stage=Stage.CUSTOMER
    )
    customer_update(customer=copy, by=advisor, data={"name": "周杰伦", "notes": "喜欢周末来"})
    row = Customer.objects.for_org(org).get(pk=customer.pk)
    assert (row.name, row.name_pinyin, row.notes) == ("周杰伦", "zhoujielun", "喜欢周末来")
    assert (row.converted_at, row.visit_count, row.lifetime_spend, row.stage) == (
        paid,
        1,
        Decimal("480.00"),
        Stage.CUSTOMER,
    )
