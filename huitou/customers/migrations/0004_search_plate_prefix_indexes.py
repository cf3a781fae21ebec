"""Prefix indexes for plate search on PostgreSQL.

A plate part that starts with the province (粤B1, 粤B12345) is a prefix of
the plate; two characters without the province (B1) are taken as the start
of the plate after it. Both are btree range scans that stop at the search's
vehicle limit, where the trigram index would have to collect every match
(a trigram index cannot serve fewer than three characters at all). Like
every hot index they start with organization_id; only active vehicles are
indexed. SQLite, the embedded default for a single shop, scans instead.
"""

from django.db import migrations

INDEXES = [
    ("vehicle_org_plate_prefix", "customers_vehicle (organization_id, plate text_pattern_ops)"),
    ("vehicle_org_plate_tail", "customers_vehicle (organization_id, substring(plate, 2) text_pattern_ops)"),
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
