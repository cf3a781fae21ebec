import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def owners_stale(apps, schema_editor):
    """Every owner counted again on the next reading, which writes their months' conversions."""
    apps.get_model("analytics", "OwnerFiles").objects.update(version=F("version") + 1)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0008_staff_months'),
        ('tenancy', '0002_organization_inactivity_thresholds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OwnerMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('conversions', models.PositiveIntegerField(default=0)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'month', 'user'), name='ownermonth_one_per_user_month')],
            },
        ),
        migrations.RunPython(owners_stale, migrations.RunPython.noop),
    ]
