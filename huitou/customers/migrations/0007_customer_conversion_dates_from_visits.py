from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    # Files that paid before the lifecycle dates existed: their first paid visit is
    # their conversion, and they had reached intent by then at the latest.
    Customer = apps.get_model("customers", "Customer")
    Customer.objects.filter(converted_at=None).exclude(first_visit_at=None).update(
        converted_at=F("first_visit_at"), intent_at=F("first_visit_at")
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_customer_lifecycle_fields")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
