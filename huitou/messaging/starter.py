"""The starter template library (短信库) for a new organization, editable afterwards.

``messaging_seed`` gives a new organization (``huitou createorg``, the demo)
one text for each kind of care, written to sound like a person at the shop
rather than an advertisement. The codes are the care kinds, so care finds
the text for a reminder by its kind. It adds only the codes the organization
does not have yet, so it can be run again. The texts are Chinese whatever
the staff's language: they go to customers in China.
"""

from __future__ import annotations

from huitou.messaging.models import MessageTemplate, Purpose
from huitou.tenancy.models import Organization

SERVICE, MARKETING = Purpose.SERVICE, Purpose.MARKETING

# code (a care kind), name, purpose, text
STARTER: tuple[tuple[str, str, str, str], ...] = (
    (
        "callback",
        "服务回访",
        SERVICE,
        "{name}您好，我是{shop}的客服。您的爱车{plate}这次在店里做的保养维修，用车感觉怎么样？"
        "有任何不满意的地方请直接回复我，我们马上处理。",
    ),
    (
        "maintenance",
        "保养提醒",
        SERVICE,
        "{name}您好，按您爱车{plate}的用车情况，{service}预计{due_date}到期。提前约好时间到店不用排队，"
        "报车牌就行。——{shop}",
    ),
    (
        "insurance",
        "车险续保提醒",
        SERVICE,
        "{name}您好，您爱车{plate}的车险将于{due_date}到期，续保可以在店里一起办，有需要随时找我。——{shop}",
    ),
    (
        "inspection",
        "年检提醒",
        SERVICE,
        "{name}您好，您爱车{plate}的年检{due_date}到期。年检前可以来店里，我们免费帮您把灯光、刹车先查一遍。——{shop}",
    ),
    (
        "warranty",
        "延保到期提醒",
        SERVICE,
        "{name}您好，上次给您爱车{plate}做的{service}，保修到{due_date}为止，这之前有任何问题请回店免费处理。——{shop}",
    ),
    (
        "birthday",
        "生日祝福",
        MARKETING,
        "{name}，生日快乐！{shop}给您准备了一张{coupon}，来店报名字就能用。祝您新的一岁平安顺意！",
    ),
    (
        "festival",
        "节日问候",
        MARKETING,
        "{name}您好，{shop}全体同事祝您和家人节日快乐，出行平安！",
    ),
    (
        "declined_work",
        "建议项目跟进",
        MARKETING,
        "{name}您好，上次检查时建议您爱车{plate}做的{service}还没有处理，为了行车安全，建议近期安排一下，"
        "来之前给我打个电话就好。——{shop}",
    ),
    (
        "winback",
        "老客户回访",
        MARKETING,
        "{name}您好，好久没见您和爱车{plate}了，最近车况还好吗？{shop}给您留了一张{coupon}，路过随时进来坐坐。",
    ),
    (
        "coupon_expiring",
        "优惠券到期提醒",
        SERVICE,
        "{name}您好，您在{shop}的{coupon}将于{due_date}到期，别浪费了。来店报名字就能用，需要的话我帮您约个时间。",
    ),
    (
        "card_expiring",
        "套餐卡到期提醒",
        SERVICE,
        "{name}您好，您在{shop}办的{service}还有次数没用完，{due_date}到期。最近方便的话过来用掉吧，提前跟我说一声就行。",
    ),
)


def messaging_seed(*, organization: Organization | int) -> int:
    """Add the starter texts the organization lacks (by code); how many were added."""
    org_id = organization if isinstance(organization, int) else organization.pk
    have = set(MessageTemplate.objects.for_org(org_id).values_list("code", flat=True))
    rows = [
        MessageTemplate(organization_id=org_id, code=code, name=name, purpose=purpose, body=body)
        for code, name, purpose, body in STARTER
        if code not in have
    ]
    MessageTemplate.objects.bulk_create(rows)
    return len(rows)
