"""The demo's customer lifecycle: how each file came, was followed up, paid, and drifted away.

Drawn without the database, like the rest of the generator. ``Storyteller``
decides whether a file ever pays (referrals most often, flyers least), its
stage, when it was created and when it came in, and then its events in time
order: the follow-ups staff recorded (跟进) and the moves between stages
that are not a follow-up's grade — the first paid visit, joining
membership, the daily visit check's dormant and lost, a prospect given up
by hand. The loaders apply the events through the services, or write the
rows the services would have written (``huitou.demo.lifecycle_rows``).

Staff follow the standard prospect plan (calls on days 0, 2 and 7) and their
own next steps, so old tasks are closed and the open ones sit around today:
each staff member's open next steps fall in turn on today, a few days
overdue or upcoming (``OPEN_DUE_CYCLE``).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Sequence

from huitou.customers.models import IntentGrade, Stage
from huitou.demo import vocab_lifecycle as words
from huitou.demo.specs import GIVEN_UP, INACTIVE, MEMBERSHIP, PAID, FollowUpSpec, LifeEvent, StageEventSpec
from huitou.lifecycle.models import FollowUpChannel
from huitou.lifecycle.services.plans import DEFAULT_DORMANT_PLAN, DEFAULT_PROSPECT_PLAN
from huitou.lifecycle.services.stages import stage_after_intent_grade, stage_after_paid_order

# Plain strings for the hot paths (an enum member's ``.value`` is a property call).
PROSPECT, INTENT, CUSTOMER, MEMBER, DORMANT, LOST = (s.value for s in Stage)
PHONE, WECHAT, IN_STORE = FollowUpChannel.PHONE.value, FollowUpChannel.WECHAT.value, FollowUpChannel.IN_STORE.value
GRADE_H, GRADE_A, GRADE_B, GRADE_C = (g.value for g in IntentGrade)

# Share of the files of a source that ever pay for a visit.
CONVERSION = {
    "referral": 0.95,
    "walk_in": 0.85,
    "competitor_switch": 0.82,
    "dealer_partner": 0.80,
    "wechat": 0.70,
    "online": 0.60,
    "opening_promo": 0.55,
    "event": 0.55,
    "gas_station": 0.50,
    "flyer": 0.35,
}
DEFAULT_CONVERSION = 0.6
# Days from first contact to the first paid visit: (share on the same day, (low, high, mode) otherwise).
FIRST_VISIT_DAYS = {
    "walk_in": (0.85, (1, 14, 2)),
    "referral": (0.30, (1, 10, 3)),
    "competitor_switch": (0.50, (1, 20, 4)),
    "dealer_partner": (0.40, (1, 14, 3)),
    "wechat": (0.05, (1, 30, 5)),
    "online": (0.05, (1, 30, 6)),
    "opening_promo": (0.20, (1, 30, 7)),
    "event": (0.10, (2, 45, 10)),
    "gas_station": (0.10, (2, 45, 10)),
    "flyer": (0.0, (3, 60, 12)),
}
DEFAULT_FIRST_VISIT_DAYS = (0.2, (1, 30, 5))
# The stage of files that paid, and of those that never did.
BUYER_STAGES = ((CUSTOMER, 38), (MEMBER, 22), (DORMANT, 12), (LOST, 6))
OPEN_STAGES = ((PROSPECT, 12), (INTENT, 8), (LOST, 3))
BUYERS = frozenset(v for v, _w in BUYER_STAGES)

CREATED_DAYS = 725  # files go back two years, when the shop started using the system
RECENT_DAYS = 60  # a prospect created since is still being worked on
DORMANT_AFTER, LOST_AFTER = 180, 365  # the organization's defaults for the daily visit check
# Days between paid visits (low, high, mode): regulars come back before the daily check notices.
VISIT_GAPS = {MEMBER: (20, 120, 55)}
DEFAULT_VISIT_GAPS = (30, 170, 90)
DAILY_CHECK = dt.time(3, 10)  # when the daily visit check runs (huitou.lifecycle.tasks)

PROSPECT_DAYS = tuple(day for day, _channel, _action in DEFAULT_PROSPECT_PLAN[1])
WAKE_UP_DAYS = tuple(day for day, _channel, _action in DEFAULT_DORMANT_PLAN[1])
# Where each staff member's open next steps fall, in turn: days from today (a few today, some
# overdue, most upcoming).
OPEN_DUE_CYCLE = (0, -2, 3, 8, -6, 1, 14, -1, 0, 5, -12, 2, 10, -4, 6, 21)
AFTERCARE_SHARE = 0.25  # paid visits that customer service calls back about
REMINDER_SHARE = 0.6  # ... and at the latest visit, schedules the next reminder
WAKE_UP_SHARE = 0.85  # dormant customers that get each step of the wake-up plan
AFTERCARE_BY = "service"


def _triangular_days(rnd: Callable[[], float], low: int, high: int, mode: int) -> int:
    """A whole number of days from a triangular distribution (inverse transform, one draw)."""
    u = rnd()
    c = (mode - low) / (high - low) if high > low else 0.5
    if u < c:
        x = low + math.sqrt(u * (high - low) * (mode - low))
    else:
        x = high - math.sqrt((1 - u) * (high - low) * (high - mode))
    return round(x)


def stage_after(events: Iterable[LifeEvent], stage: str = PROSPECT) -> str:
    """The stage a new file reaches through ``events``, by the lifecycle's rules (its functions)."""
    for event in events:
        if isinstance(event, FollowUpSpec):
            graded = stage_after_intent_grade(stage) if event.grade else None
            stage = graded or stage
        elif event.kind == PAID:
            move = stage_after_paid_order(stage)
            stage = str(move[0]) if move else stage
        elif event.kind == MEMBERSHIP:
            stage = MEMBER
        elif event.kind == INACTIVE:
            stage = event.stage
        elif event.kind == GIVEN_UP:
            stage = LOST
    return stage


def _weighted(pairs: Sequence[tuple[str, float]]) -> Callable[[float], str]:
    total = sum(w for _v, w in pairs)

    def pick(r: float) -> str:
        mark = r * total
        for value, weight in pairs:
            mark -= weight
            if mark < 0:
                return value
        return pairs[-1][0]

    return pick


class Storyteller:
    """Draws lifecycles from the generator's random stream; knows today and the time zone."""

    def __init__(self, rnd: random.Random, *, today: dt.date, tz: dt.tzinfo) -> None:
        self.random: Callable[[], float] = rnd.random
        self.today = today
        self.tz = tz
        self._buyer_stage = _weighted(BUYER_STAGES)
        self._open_stage = _weighted(OPEN_STAGES)
        self._turn: dict[str, int] = {}

    # --- who pays, and when ----------------------------------------------------------------------

    def converts(self, source: str) -> bool:
        return self.random() < CONVERSION.get(source, DEFAULT_CONVERSION)

    def stage(self, converted: bool) -> str:
        return (self._buyer_stage if converted else self._open_stage)(self.random())

    def first_visit_days(self, source: str) -> int:
        """Days from first contact to the first paid visit."""
        same_day, (low, high, mode) = FIRST_VISIT_DAYS.get(source, DEFAULT_FIRST_VISIT_DAYS)
        if self.random() < same_day:
            return 0
        return _triangular_days(self.random, low, high, mode)

    def _days_ago(self, low: int, high: int) -> int:
        """Days ago in ``low..high``, more of them recent: the shop gains files over time."""
        high = max(high, low)
        u = self.random()
        share = u if self.random() < 0.5 else 1 - math.sqrt(u)
        return min(low + int((high - low + 1) * share), high)

    def timeline(
        self, stage: str, converted: bool, source: str, oldest: int = CREATED_DAYS
    ) -> tuple[str, int, list[int]]:
        """(stage, days ago the file was created, days ago of each paid visit, oldest first).

        ``oldest`` bounds the creation (a family member comes after the first
        one). Regulars come back within ``VISIT_GAPS``; a dormant customer's
        last visit lies between the daily check's two thresholds, a lost
        one's beyond the second. The stage falls back to customer when the
        bound leaves no room for dormant or lost.
        """
        oldest = max(oldest, 1)
        if not converted:
            if stage == LOST:
                return stage, self._days_ago(min(20, oldest), oldest), []
            if oldest <= RECENT_DAYS or self.random() < 0.35:
                return stage, self._days_ago(1, min(RECENT_DAYS, oldest)), []
            return stage, self._days_ago(RECENT_DAYS + 1, oldest), []
        last = 1
        if stage == DORMANT and oldest > DORMANT_AFTER + 1:
            last = self._days_ago(DORMANT_AFTER + 2, min(LOST_AFTER - 1, oldest))
        elif stage == LOST and oldest > LOST_AFTER + 1:
            last = self._days_ago(LOST_AFTER + 2, min(CREATED_DAYS - 25, oldest))
        elif stage in (DORMANT, LOST):
            stage = CUSTOMER
        created = self._days_ago(min(30, oldest) if stage == MEMBER else last, oldest)
        first = max(created - self.first_visit_days(source), last)
        low, high, mode = VISIT_GAPS.get(stage, DEFAULT_VISIT_GAPS)
        visits = [first]
        while True:
            gap = _triangular_days(self.random, low, high, mode)
            if visits[-1] - gap < last:
                break
            visits.append(visits[-1] - gap)
        if stage in (DORMANT, LOST) and visits[-1] != last:
            visits.append(last)
        return stage, created, visits

    # --- what happened -----------------------------------------------------------------------

    def _at(self, day: dt.date) -> dt.datetime:
        """A moment during opening hours (08:30-18:30) of ``day``."""
        minutes = int(self.random() * 601)
        return dt.datetime.combine(day, dt.time(8, 30), tzinfo=self.tz) + dt.timedelta(minutes=minutes)

    def _pick(self, values: Sequence[str]) -> str:
        return values[int(self.random() * len(values))]

    def need(self, source: str) -> str:
        r = self.random()
        if r < 0.08:
            return ""
        own = words.NEEDS_BY_SOURCE.get(source)
        return self._pick(own if own and r < 0.35 else words.NEEDS)

    def story(
        self,
        *,
        stage: str,
        source: str,
        owner: str,
        created_at: dt.datetime,
        visits: Sequence[dt.datetime],
    ) -> list[LifeEvent]:
        """The file's follow-ups and stage events after its creation, in time order.

        ``visits`` are the paid visits, the first being the conversion; none
        for a file that never paid.
        """
        events: list[LifeEvent] = []
        yesterday = self.today - dt.timedelta(days=1)
        if visits:
            events += self._prospecting(stage, owner, created_at, visits[0].date() - dt.timedelta(days=1), True)
            events.append(StageEventSpec(visits[0], PAID))
            events += self._aftercare(stage, visits)
            if stage == MEMBER or (stage in (DORMANT, LOST) and self.random() < 0.2):
                joined = visits[1] + dt.timedelta(minutes=10) if len(visits) > 1 else None
                if joined is None:
                    joined = dt.datetime.combine(visits[0].date(), dt.time(20), tzinfo=self.tz)
                events.append(StageEventSpec(joined, MEMBERSHIP, staff=owner))
            if stage in (DORMANT, LOST):
                events += self._gone_quiet(stage, owner, visits[-1].date())
        else:
            recent = (self.today - created_at.date()).days <= RECENT_DAYS
            active = stage != LOST and (recent or self.random() < 0.05)
            if active:
                due = self._open_due(owner, created_at.date())
                last = min(due - dt.timedelta(days=1 + int(self.random() * 7)), yesterday)
            else:
                last = min(created_at.date() + dt.timedelta(days=7 + int(self.random() * 24)), yesterday)
                due = None
            followups = self._prospecting(stage, owner, created_at, max(last, created_at.date()), False, due)
            events += followups
            if stage == LOST:
                after = followups[-1].at if followups else created_at
                day = min(after.date() + dt.timedelta(days=int(self.random() * 4)), yesterday)
                at = max(self._at(day), after + dt.timedelta(minutes=10))
                events.append(StageEventSpec(at, GIVEN_UP, staff=owner, note=self._pick(words.GIVE_UP_REASONS)))
        events.sort(key=lambda e: e.at)
        return events

    def _open_due(self, owner: str, earliest: dt.date) -> dt.date:
        """The day an open next step falls: the staff member's next turn in ``OPEN_DUE_CYCLE``."""
        turn = self._turn.get(owner, 0)
        self._turn[owner] = turn + 1
        return max(self.today + dt.timedelta(days=OPEN_DUE_CYCLE[turn % len(OPEN_DUE_CYCLE)]), earliest)

    def _schedule(self, start: dt.date, last: dt.date, long_run: bool) -> list[dt.date]:
        """Follow-up days from ``start`` to ``last``: the plan's days, then every one to three weeks
        (every month or two on a long run), and ``last``."""
        days: list[dt.date] = []
        for n, offset in enumerate(PROSPECT_DAYS):
            day = start + dt.timedelta(days=offset + (int(self.random() * 3) if n else int(self.random() * 2)))
            if day > last:
                break
            if not days or day > days[-1]:
                days.append(day)
        else:
            while True:
                gap = 30 + int(self.random() * 31) if long_run else 7 + int(self.random() * 14)
                day = days[-1] + dt.timedelta(days=gap)
                if day > last:
                    break
                days.append(day)
        # The last day too, unless a follow-up came just before it and the plan's days are done.
        plan_done = days and (days[-1] - start).days >= PROSPECT_DAYS[-1]
        if days and days[-1] < last and not long_run and ((last - days[-1]).days > 3 or not plan_done):
            days.append(last)
        return days

    def _prospecting(
        self,
        stage: str,
        owner: str,
        created_at: dt.datetime,
        last: dt.date,
        converts: bool,
        open_due: dt.date | None = None,
    ) -> list[FollowUpSpec]:
        """Follow-ups before the first paid visit (up to ``last``), or for good.

        Next steps are answered on their day; the last one's, if any, is the
        invitation before the visit (cancelled when they pay) or the open
        task ``open_due``.
        """
        if last < created_at.date():
            return []
        long_run = not converts and (last - created_at.date()).days > RECENT_DAYS
        days = self._schedule(created_at.date(), last, long_run)
        graded = (converts and self.random() < 0.7) or stage == INTENT
        visit_day = last + dt.timedelta(days=1) if converts else None
        followups: list[FollowUpSpec] = []
        previous = created_at
        for n, day in enumerate(days):
            at = max(self._at(day), previous + dt.timedelta(minutes=20))
            previous = at
            final = n == len(days) - 1
            reached = final or self.random() > 0.15
            if not reached:
                channel, content = words.UNREACHED[int(self.random() * len(words.UNREACHED))]
                result = ""
            else:
                channel, content = self._prospect_contact(n)
                result = self._pick(words.PROSPECT_RESULTS)
            grade = ""
            if reached and graded and (final or self.random() < 0.5):
                grade = self._grade((visit_day - day).days if visit_day else None)
            next_step, next_due = "", None
            if not final:
                if self.random() < 0.6:
                    next_step, next_due = self._pick(words.PROSPECT_NEXT_STEPS), days[n + 1]
            elif visit_day is not None:
                next_step, next_due = self._pick(words.PROSPECT_NEXT_STEPS), visit_day
            elif open_due is not None:
                next_step, next_due = self._pick(words.PROSPECT_NEXT_STEPS), max(open_due, day)
            elif stage != LOST:
                result = self._pick(words.COLD_RESULTS)
            followups.append(FollowUpSpec(at, owner, channel, content, result, grade, next_step, next_due))
        return followups

    def _prospect_contact(self, n: int) -> tuple[str, str]:
        r = self.random()
        if r < 0.1:
            return IN_STORE, self._pick(words.PROSPECT_IN_STORE)
        if (n % 2 == 1) != (r < 0.3):
            return WECHAT, self._pick(words.PROSPECT_WECHAT)
        return PHONE, self._pick(words.PROSPECT_CALLS)

    def _grade(self, visit_in: int | None) -> str:
        """How soon they will buy: for those who did, how soon they did."""
        if visit_in is None:
            weights = ((GRADE_A, 0.2), (GRADE_B, 0.45), (GRADE_C, 0.35))
            r, total = self.random(), 0.0
            for grade, share in weights:
                total += share
                if r < total:
                    return grade
            return GRADE_C
        if visit_in <= 7:
            return GRADE_H
        return GRADE_A if visit_in <= 30 else GRADE_B

    def _aftercare(self, stage: str, visits: Sequence[dt.datetime]) -> list[FollowUpSpec]:
        """Customer service calls back a few days after some visits; after the latest, a reminder."""
        yesterday = self.today - dt.timedelta(days=1)
        followups = []
        for n, visit in enumerate(visits):
            if self.random() >= AFTERCARE_SHARE:
                continue
            day = visit.date() + dt.timedelta(days=1 + int(self.random() * 3))
            if day > yesterday:
                continue
            channel, content = words.AFTERCARE[int(self.random() * len(words.AFTERCARE))]
            next_step, next_due = "", None
            latest = n == len(visits) - 1
            if latest and stage in (CUSTOMER, MEMBER) and self.random() < REMINDER_SHARE:
                next_step = self._pick(words.REMINDERS)
                next_due = visit.date() + dt.timedelta(days=150 + int(self.random() * 51))
            result = self._pick(words.AFTERCARE_RESULTS)
            followups.append(
                FollowUpSpec(self._at(day), AFTERCARE_BY, channel, content, result, "", next_step, next_due)
            )
        return followups

    def _gone_quiet(self, stage: str, owner: str, last_visit: dt.date) -> list[LifeEvent]:
        """The daily check's moves after the last visit, and the wake-up plan's call and message."""
        yesterday = self.today - dt.timedelta(days=1)
        dormant = last_visit + dt.timedelta(days=DORMANT_AFTER + 1)
        events: list[LifeEvent] = []
        if dormant > yesterday:
            return events
        events.append(StageEventSpec(dt.datetime.combine(dormant, DAILY_CHECK, tzinfo=self.tz), INACTIVE, DORMANT))
        lost = last_visit + dt.timedelta(days=LOST_AFTER + 1)
        for n, offset in enumerate(WAKE_UP_DAYS):
            day = dormant + dt.timedelta(days=offset + int(self.random() * 3))
            if self.random() >= WAKE_UP_SHARE or day > yesterday or (stage == LOST and day >= lost):
                continue
            if n == 0:
                content, result = self._pick(words.WAKE_UP_CALLS), self._pick(words.WAKE_UP_CALL_RESULTS)
                events.append(FollowUpSpec(self._at(day), owner, PHONE, content, result))
            else:
                content, result = self._pick(words.WAKE_UP_MESSAGES), self._pick(words.WAKE_UP_MESSAGE_RESULTS)
                events.append(FollowUpSpec(self._at(day), AFTERCARE_BY, WECHAT, content, result))
        if stage == LOST and lost <= yesterday:
            events.append(StageEventSpec(dt.datetime.combine(lost, DAILY_CHECK, tzinfo=self.tz), INACTIVE, LOST))
        return events
