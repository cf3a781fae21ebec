"""The files each owner has now, counted once for the data already there (``OwnerFiles``)."""

from django.db import migrations
from django.db.models import Count, Sum


def owner_files_fill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    OwnerFiles = apps.get_model("analytics", "OwnerFiles")
    rows = (
        Customer.objects.filter(deleted_at=None)
        .values("organization_id", "owner_id")
        .annotate(n=Count("pk"), total=Sum("completeness"))
        .order_by()
    )
    OwnerFiles.objects.bulk_create(
        [
            OwnerFiles(
                organization_id=r["organization_id"],
                user_id=r["owner_id"],
                files=r["n"],
                completeness_sum=r["total"] or 0,
                version=1,
                counted=1,
            )
            for r in rows
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_staff_days"),
        ("customers", "0010_converted_index"),
    ]

    operations = [migrations.RunPython(owner_files_fill, migrations.RunPython.noop)]
