import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from huitou.customers.models import Source
from huitou.service.models import OpeningHours, Part, ServiceItem
from huitou.service.starter import PARTS
from huitou.tenancy.models import Organization, Shop, User
from huitou.tenancy.roles import Role

pytestmark = pytest.mark.django_db


def test_createorg_makes_a_chain_with_its_store_manager_and_sources():
    call_command(
        "createorg",
        "快修连锁",
        "--shop",
        "东门店",
        "--shop",
        "西门店",
        "--owner",
        "boss",
        "--password",
        "a-long-enough-pass-2026",
    )
    organization = Organization.objects.get(name="快修连锁")
    boss = User.objects.get(username="boss")
    assert boss.organization == organization and boss.role == Role.OWNER
    assert set(Shop.objects.for_org(organization).values_list("name", flat=True)) == {"东门店", "西门店"}
    assert set(boss.shops.values_list("name", flat=True)) == {"东门店", "西门店"}
    assert Source.objects.for_org(organization).filter(code="referral").exists()
    # A starter catalog and opening hours, so the shop can open orders and take bookings at once.
    assert ServiceItem.objects.for_org(organization).filter(code="M01", interval_km=5000).exists()
    assert Part.objects.for_org(organization).count() == len(PARTS)
    assert OpeningHours.objects.for_org(organization).count() == 14


def test_createorg_refuses_a_weak_password_and_leaves_nothing_behind():
    with pytest.raises(CommandError):
        call_command("createorg", "弱密码车行", "--owner", "weak", "--password", "123")
    assert not Organization.objects.filter(name="弱密码车行").exists()
