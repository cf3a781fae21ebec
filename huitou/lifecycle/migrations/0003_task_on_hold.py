from django.db import migrations, models


def hold_tasks_of_deleted_files(apps, schema_editor):
    """Open tasks of files deleted before tasks were put on hold: hold them as of the deletion."""
    FollowUpTask = apps.get_model("lifecycle", "FollowUpTask")
    Customer = apps.get_model("customers", "Customer")
    deleted = Customer.objects.filter(deleted_at__isnull=False)
    held = FollowUpTask.objects.filter(closed_at=None, customer__in=deleted)
    held.update(
        closed_at=models.Subquery(deleted.filter(pk=models.OuterRef("customer_id")).values("deleted_at")[:1]),
        closed_as="on_hold",
    )


def reopen_held_tasks(apps, schema_editor):
    FollowUpTask = apps.get_model("lifecycle", "FollowUpTask")
    FollowUpTask.objects.filter(closed_as="on_hold").update(closed_at=None, closed_as="")


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0002_seed_standard_plans"),
    ]

    operations = [
        migrations.AlterField(
            model_name="followuptask",
            name="closed_as",
            field=models.CharField(
                blank=True,
                choices=[("done", "Done"), ("cancelled", "Cancelled"), ("on_hold", "On hold: the file is deleted")],
                max_length=10,
            ),
        ),
        migrations.RunPython(hold_tasks_of_deleted_files, reopen_held_tasks),
    ]
