"""The demo's callbacks (回访): done or skipped through the care services at their moment in the story.

Every paid order leaves a callback due within 48 hours (the care app's
``order_paid`` receiver). In the demo, the callbacks of the older visits are
made the day after the visit (or the same afternoon for a morning visit) by
the staff member who owns them: most customers are
satisfied (4 or 5), a few less so, and some cannot be reached and the
callback is skipped. Scores of 2 or less, which open a complaint, are given
only in the last weeks (the demo does not work old complaints through their
steps). The callbacks of the visits since the day before yesterday stay open
on the work lists, the older of them already late.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from huitou.care.models import CallbackQuestion, CareKind, CareTask
from huitou.care.services.tasks import care_task_done, care_task_skip
from huitou.demo.clock import Agenda
from huitou.demo.generator import DemoRandom, Weighted
from huitou.service.models import ServiceOrder
from huitou.tenancy.models import Organization, User

OPEN_DAYS = dt.timedelta(days=2)  # the callbacks of today's visits and the two days before stay open
LOW_SCORES_WITHIN = dt.timedelta(days=21)  # a score of 2 or less only this close to the build
SKIP_SHARE = 0.08
SCORES = Weighted([(5, 52), (4, 30), (3, 10), (2, 5), (1, 3)])
RESULTS: dict[int, tuple[str, ...]] = {
    5: (
        "车况很好，对服务很满意",
        "客户说师傅讲解清楚，价格透明",
        "很满意，下次保养还来",
        "客户表扬前台接待热情，交车准时",
        "满意，已提醒下次保养里程",
    ),
    4: (
        "总体满意，觉得等待时间稍长",
        "满意，希望取车前能提前发短信",
        "车况正常，客户比较满意",
        "满意，建议休息区多放几份报纸",
    ),
    3: ("一般，觉得价格偏高", "洗车有少量水渍，客户说还行", "还可以，交车晚了半小时"),
    2: ("等了快两个小时，客户不太满意，已致歉", "空调异味还在，客户不满意，已约复查"),
    1: ("刹车异响没有解决，客户很不满意，要求店长回电",),
}
SKIP_REASONS = (
    "电话三次未接通，已发短信问候",
    "客户在开会，说车没问题不用回访",
    "客户要求以后不要电话回访",
)
COMMENTS: dict[int, tuple[str, ...]] = {
    5: ("服务很好，继续保持", "师傅很专业"),
    4: ("希望能缩短等待时间", "停车位有点少"),
    3: ("价格可以再优惠一点", "希望交车前把车洗干净"),
    2: ("等待时间太长了",),
    1: ("问题没解决，很失望",),
}
COMMENT_SHARE = 0.3


@dataclass
class CallbackStats:
    done: int = 0
    skipped: int = 0
    low_scores: int = 0


class Callbacks:
    """Closes each past visit's callback at its moment in the story (``Agenda``)."""

    def __init__(
        self,
        *,
        organization: Organization,
        staff: Mapping[str, User],
        rnd: DemoRandom,
        now: dt.datetime,
        agenda: Agenda,
        stats: CallbackStats | None = None,
    ) -> None:
        self.organization = organization
        self.staff = {user.pk: user for user in staff.values()}
        self.fallback = staff["service"]
        self.rnd = rnd
        self.now = now
        self.agenda = agenda
        # The visits of today and the two days before keep their callbacks open (some already late).
        self.open_from = timezone.make_aware(dt.datetime.combine(timezone.localdate(now) - OPEN_DAYS, dt.time()))
        self.stats = stats or CallbackStats()
        self.questions = list(
            CallbackQuestion.objects.for_org(organization).filter(is_active=True).order_by("position", "pk")
        )

    def after_paid(self, order: ServiceOrder) -> None:
        """The order's callback is made at its moment, unless the visit is of the last days."""
        paid_at = order.paid_at
        if paid_at is None or paid_at >= self.open_from:
            return
        self.agenda.add(self._when(paid_at), functools.partial(self._close, order.pk))

    def _when(self, paid_at: dt.datetime) -> dt.datetime:
        """The same afternoon for a morning visit now and then, else the next day in working hours."""
        local = timezone.localtime(paid_at)
        if local.hour < 11 and self.rnd.random() < 0.4:
            day, start = local.date(), dt.time(15)
        else:
            day, start = local.date() + dt.timedelta(days=1), dt.time(9, 30)
        at = timezone.make_aware(dt.datetime.combine(day, start)) + dt.timedelta(minutes=self.rnd.randint(0, 150))
        return min(max(at, paid_at + dt.timedelta(minutes=30)), self.now)

    def _close(self, order_id: int, at: dt.datetime) -> None:
        task = (
            CareTask.objects.for_org(self.organization)
            .filter(kind=CareKind.CALLBACK, key=f"callback:{order_id}", state=CareTask.State.OPEN)
            .first()
        )
        skip = self.rnd.random() < SKIP_SHARE
        score: int = SCORES(self.rnd)
        if score <= 2 and at < self.now - LOW_SCORES_WITHIN:
            score = 3
        result = self.rnd.choice(RESULTS[score])
        reason = self.rnd.choice(SKIP_REASONS)
        answers = self._answers(score)
        if task is None:
            return
        by = self.staff.get(task.owner_id, self.fallback)
        with transaction.atomic():
            if skip:
                care_task_skip(task=task, by=by, reason=reason, now=at)
                self.stats.skipped += 1
                return
            care_task_done(task=task, by=by, result=result, score=score, answers=answers, now=at)
        self.stats.done += 1
        self.stats.low_scores += score <= 2

    def _answers(self, score: int) -> dict[str, Any]:
        """The questionnaire as the customer answered it: ratings near the score, now and then a word."""
        answers: dict[str, Any] = {}
        for question in self.questions:
            if question.kind == CallbackQuestion.Kind.RATING:
                answers[str(question.pk)] = min(5, max(1, score + self.rnd.choice((-1, 0, 0, 0, 1))))
            elif self.rnd.random() < COMMENT_SHARE:
                answers[str(question.pk)] = self.rnd.choice(COMMENTS[score])
        return answers
