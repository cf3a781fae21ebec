"""The active name index holds the pinyin and the id too (PostgreSQL).

A name prefix (张, 高倩) can match a thousand customers; the search orders
them by pinyin and keeps 20. With the pinyin in the index the page's ids are
picked from the index alone, and only those 20 rows are read.
"""

from django.db import migrations

TARGET = "customers_customer (organization_id, name text_pattern_ops)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS customer_org_active_name_idx")
    schema_editor.execute(
        f"CREATE INDEX customer_org_active_name_idx ON {TARGET} INCLUDE (name_pinyin, id) WHERE deleted_at IS NULL"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS customer_org_active_name_idx")
    schema_editor.execute(f"CREATE INDEX customer_org_active_name_idx ON {TARGET} WHERE deleted_at IS NULL")


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_active_stage_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
