"""Prefix indexes for search on PostgreSQL, over active rows only.

Plates: a plate part that starts with the province (粤B1, 粤B12345) is a
prefix of the plate; two characters without the province (B1) are taken as
the start of the plate after it. Both are btree range scans that stop at the
search's vehicle limit, where the trigram index would have to collect every
match (and cannot serve fewer than three characters at all).

Names: a name prefix (张, 张伟) can match a thousand customers in a large
organization; with the deleted ones left out of the index, counting them is
an index-only scan instead of a visit to every matching row.

Like every hot index they start with organization_id. SQLite, the embedded
default for a single shop, scans instead.
"""

from django.db import migrations

INDEXES = [
    ("vehicle_org_plate_prefix", "customers_vehicle (organization_id, plate text_pattern_ops)"),
    ("vehicle_org_plate_tail", "customers_vehicle (organization_id, substring(plate, 2) text_pattern_ops)"),
    ("customer_org_active_name_idx", "customers_customer (organization_id, name text_pattern_ops)"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target} WHERE deleted_at IS NULL")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _target in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_visit_stats")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
