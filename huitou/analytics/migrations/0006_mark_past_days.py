"""The days that already have payments, paid orders, staff work, customers churned or won back are
marked for the daily facts.

The facts are counted from these marks on the first read (or at once by
``huitou analytics facts``), so a database upgraded with orders in it never
shows a dashboard without its past.
"""

from django.db import migrations
from django.db.models.functions import TruncDate
from django.utils import timezone


def _days(model, field, **conditions):
    tz = timezone.get_current_timezone()
    rows = (
        model.objects.filter(**{f"{field}__isnull": False}, **conditions)
        .annotate(local_day=TruncDate(field, tzinfo=tz))
        .values_list("organization_id", "local_day")
        .distinct()
    )
    return set(rows)


def mark_past_days(apps, schema_editor):
    marks = set()
    marks |= _days(apps.get_model("service", "Payment"), "at")
    marks |= _days(apps.get_model("service", "ServiceOrder"), "paid_at", state="paid")
    marks |= _days(apps.get_model("lifecycle", "FollowUp"), "at")
    marks |= _days(apps.get_model("lifecycle", "FollowUpTask"), "closed_at")
    marks |= _days(apps.get_model("care", "CareTask"), "closed_at")
    marks |= _days(apps.get_model("lifecycle", "StageChange"), "at", to_stage="dormant")
    marks |= _days(apps.get_model("lifecycle", "StageChange"), "at", reason="returned")
    StaleDay = apps.get_model("analytics", "StaleDay")
    StaleDay.objects.bulk_create(
        [StaleDay(organization_id=org, day=day, version=1) for org, day in sorted(marks) if day is not None],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_owner_files_fill"),
        ("service", "0006_paid_and_payment_day_indexes"),
        ("lifecycle", "0004_followup_at_and_done_task_indexes"),
        ("care", "0005_closed_task_and_opened_complaint_indexes"),
    ]

    operations = [migrations.RunPython(mark_past_days, migrations.RunPython.noop)]
