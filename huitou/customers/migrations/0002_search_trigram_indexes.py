"""Trigram indexes for substring search on PostgreSQL (plates, VINs, names).

They start with organization_id (btree_gin) like every hot index. SQLite,
the embedded default for a single shop, scans instead.
"""

from django.db import migrations

INDEXES = [
    ("customers_vehicle", "plate", "vehicle_org_plate_trgm"),
    ("customers_vehicle", "vin", "vehicle_org_vin_trgm"),
    ("customers_customer", "name", "customer_org_name_trgm"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for table, column, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (organization_id, {column} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
