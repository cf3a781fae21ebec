"""The change history primitives: snapshots, diffs and append-only entries."""

from __future__ import annotations

import datetime as dt
import decimal

from huitou.audit.models import ChangeEntry
from huitou.audit.services import change_record, diff, snapshot
from huitou.tenancy.models import Organization, Shop, User


def test_a_diff_holds_only_changed_fields_as_old_and_new() -> None:
    before = {"name": "张三", "phone": "+8613812345678", "email": ""}
    after = {"name": "张三", "phone": "+8613911112222", "email": "zs@qq.com"}
    assert diff(before, after) == {"phone": ["+8613812345678", "+8613911112222"], "email": ["", "zs@qq.com"]}


def test_a_diff_of_equal_snapshots_is_empty() -> None:
    assert diff({"a": 1}, {"a": 1}) == {}


def test_a_snapshot_turns_values_into_json_friendly_ones(org: Organization) -> None:
    shop = Shop.objects.for_org(org).first()
    assert shop is not None
    shop.address = "深圳市南山区"
    shot = snapshot(shop, ["name", "address", "organization", "is_active"])
    assert shot == {"name": shop.name, "address": "深圳市南山区", "organization": "顺达汽修", "is_active": True}


def test_an_entry_stores_who_what_and_for_which_customer(org: Organization, owner: User) -> None:
    shop = Shop.objects.for_org(org).first()
    assert shop is not None
    entry = change_record(
        organization_id=org.pk,
        subject=shop,
        action=ChangeEntry.Action.UPDATED,
        actor=owner,
        customer_id=42,
        changes={
            "opened": [None, dt.date(2024, 5, 1)],
            "deposit": [decimal.Decimal("0.00"), decimal.Decimal("199.50")],
            "manager": [None, owner],
        },
        note="x" * 300,
    )
    entry.refresh_from_db()
    assert (entry.organization_id, entry.subject_type, entry.subject_id, entry.customer_id) == (
        org.pk,
        "shop",
        shop.pk,
        42,
    )
    assert entry.actor == owner
    assert entry.changes == {
        "opened": [None, "2024-05-01"],
        "deposit": ["0.00", "199.50"],
        "manager": [None, str(owner)],
    }
    assert len(entry.note) == 200
    assert entry.at is not None


def test_an_entry_without_a_saved_actor_is_a_system_change(org: Organization) -> None:
    shop = Shop.objects.for_org(org).first()
    assert shop is not None
    entry = change_record(
        organization_id=org.pk, subject=shop, action=ChangeEntry.Action.UPDATED, actor=User(username="ghost")
    )
    assert entry.actor is None
    assert entry.changes == {}
