import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import TruncMonth

COUNTERS = (
    "followups_done",
    "followups_late",
    "care_done",
    "care_late",
    "care_skipped",
    "callbacks_done",
    "satisfaction_sum",
    "satisfaction_count",
    "old_customer_contacts",
)


def staff_months_fill(apps, schema_editor):
    """The months of the days already kept."""
    StaffDay = apps.get_model("analytics", "StaffDay")
    StaffMonth = apps.get_model("analytics", "StaffMonth")
    rows = (
        StaffDay.objects.annotate(month=TruncMonth("day"))
        .values("organization_id", "user_id", "month")
        .annotate(**{name: Sum(name) for name in COUNTERS})
        .order_by()
    )
    StaffMonth.objects.bulk_create((StaffMonth(**row) for row in rows.iterator()), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0007_day_change_facts"),
        ("tenancy", "0002_organization_inactivity_thresholds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("followups_done", models.PositiveIntegerField(default=0)),
                ("followups_late", models.PositiveIntegerField(default=0)),
                ("care_done", models.PositiveIntegerField(default=0)),
                ("care_late", models.PositiveIntegerField(default=0)),
                ("care_skipped", models.PositiveIntegerField(default=0)),
                ("callbacks_done", models.PositiveIntegerField(default=0)),
                ("satisfaction_sum", models.PositiveIntegerField(default=0)),
                ("satisfaction_count", models.PositiveIntegerField(default=0)),
                ("old_customer_contacts", models.PositiveIntegerField(default=0)),
                ("month", models.DateField()),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "month", "user"), name="staffmonth_one_per_user_month"
                    )
                ],
            },
        ),
        migrations.RunPython(staff_months_fill, migrations.RunPython.noop),
    ]
