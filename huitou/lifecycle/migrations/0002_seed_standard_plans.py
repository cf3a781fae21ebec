from django.db import migrations

# The standard plans of huitou.lifecycle.services.plans, as they were when this ran.
PLANS = (
    (
        "prospect",
        "新潜客标准跟进",
        (
            (0, "phone", "电话联系：了解需求、车况和方便到店的时间"),
            (2, "wechat", "微信发送同类车型的施工照片和案例"),
            (7, "phone", "邀请到店：免费检测或体验项目"),
        ),
    ),
    (
        "dormant",
        "沉睡客户唤醒",
        (
            (0, "phone", "电话问候：了解近况和用车情况，是否有不满意的地方"),
            (3, "wechat", "微信发送回店关怀优惠"),
        ),
    ),
)


def forwards(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Plan = apps.get_model("lifecycle", "FollowUpPlan")
    Step = apps.get_model("lifecycle", "FollowUpPlanStep")
    for organization in Organization.objects.all():
        for stage, name, steps in PLANS:
            if Plan.objects.filter(organization=organization, stage=stage, source=None).exists():
                continue
            plan = Plan.objects.create(organization=organization, name=name, stage=stage, is_active=True)
            Step.objects.bulk_create(
                [
                    Step(organization=organization, plan=plan, day_offset=day, channel=channel, action=action)
                    for day, channel, action in steps
                ]
            )


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
