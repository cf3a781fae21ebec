"""Trigram indexes for substring search on SQLite (plates, VINs, names).

PostgreSQL has them since 0002 (pg_trgm). SQLite gets the same from FTS5's
trigram tokenizer: index tables kept by triggers (huitou.customers.trigram).
"""

from django.db import migrations

from huitou.customers.trigram import trigram_tables_drop, trigram_tables_ensure


def forwards(apps, schema_editor):
    trigram_tables_ensure(schema_editor.connection)


def backwards(apps, schema_editor):
    trigram_tables_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_first_visit_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
