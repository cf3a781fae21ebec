"""Deterministic demo customers: the same seed gives the same people, cars and visits.

The generator knows nothing about the database: it yields ``CustomerSpec``
values that the loaders write, either through the services (small demos,
with change history) or in bulk (large ones). Each file comes with its
lifecycle (``huitou.demo.lifecycle``): its source decides whether it ever
pays, its stage when it was created and when it came in, and its need,
referrer, follow-ups and stage events follow.

Phones and VIN serial numbers are unique by construction (keyed
permutations of the running number); plates are drawn and redrawn until
unused. The story is drawn as of a fixed day and then moved to end
yesterday, so the demo always looks current and a seed gives the same
people, cars and plates on any day.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from huitou.customers.models import AgeBracket, BirthdayCalendar, Channel, ConsentRecord, Gender, Stage
from huitou.customers.services import DEFAULT_SOURCES
from huitou.demo import vocab
from huitou.demo.lifecycle import CREATED_DAYS, Storyteller, stage_after
from huitou.demo.specs import CustomerSpec, FollowUpSpec, ReadingSpec, StageEventSpec, VehicleSpec
from huitou.lib.vin import check_digit

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

# Staff keys the generator hands customers to (the loaders map them to users).
OWNER_WEIGHTS = (("advisor", 45), ("service", 35), ("owner", 20))
# How carefully each of them fills in the soft profile: a spread for the
# file-completeness contest.
DILIGENCE = {"advisor": 1.15, "service": 1.0, "owner": 0.75}

SOURCE_WEIGHTS = {
    "walk_in": 25,
    "referral": 18,
    "wechat": 14,
    "online": 10,
    "flyer": 8,
    "dealer_partner": 8,
    "competitor_switch": 6,
    "opening_promo": 5,
    "gas_station": 3,
    "event": 3,
}


# Per stage: share of soft-profile fields filled in, share that agreed to messages.
PROFILE = {
    Stage.PROSPECT: (0.15, 0.25),
    Stage.INTENT: (0.30, 0.40),
    Stage.CUSTOMER: (0.45, 0.60),
    Stage.MEMBER: (0.70, 0.80),
    Stage.DORMANT: (0.35, 0.50),
    Stage.LOST: (0.25, 0.30),
}
REFERRAL_SHARE = 0.8  # files from a referral that name who referred them
REFERRERS_KEPT = 2_000  # recent paying customers a referral may name

VEHICLE_COUNT_WEIGHTS = ((0, 3), (1, 76), (2, 17), (3, 4))  # about 1.2 vehicles per customer
NEW_ENERGY_SHARE = 0.22  # of vehicles drawn; older customers' cars predate most NEV models
FAMILY_SHARE = 0.03  # customers who bring a family member (a household)
NO_VIN_SHARE = 0.08
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O never appear on a plate
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
VIN_PLANTS = "0123456789"
VIN_SERIALS = 1_000_000
MAX_CUSTOMERS = 5_000_000
STORY_DAY = dt.date(2026, 1, 1)


class DemoRandom(random.Random):
    """``random.Random`` with ``randint`` and ``choice`` drawn from one ``random()`` each:
    several times faster, and the same stream on every Python version."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


class Weighted:
    """Draw from values with weights, in O(log n) per draw."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rnd: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rnd.random() * self.total)]


class Permutation:
    """A keyed bijection of ``range(size)`` whose outputs look random.

    A four-round Feistel network on the next even power of two, walking the
    cycle until the value falls inside the range.
    """

    def __init__(self, size: int, key: int) -> None:
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.size = size
        self.half = bits // 2
        self.mask = (1 << self.half) - 1
        keys = random.Random(key)
        self.keys = [keys.getrandbits(32) for _ in range(4)]

    def __call__(self, x: int) -> int:
        if not 0 <= x < self.size:
            raise ValueError(f"{x} is outside 0..{self.size - 1}")
        half, mask = self.half, self.mask
        while True:
            left, right = x >> half, x & mask
            for k in self.keys:
                left, right = right, left ^ (((((right ^ k) * 0x9E3779B1) & 0xFFFFFFFF) >> 7) & mask)
            x = (left << half) | right
            if x < self.size:
                return x


def vin_year_code(year: int) -> str:
    """The VIN's 10th character for a model year (a 30-year cycle without I, O, Q, U, Z, 0)."""
    codes = "ABCDEFGHJKLMNPRSTVWXY123456789"
    return codes[(year - 1980) % 30]


def age_bracket_of(age: int) -> str:
    if age < 25:
        return AgeBracket.UNDER_25.value
    if age < 35:
        return AgeBracket.FROM_25.value
    if age < 45:
        return AgeBracket.FROM_35.value
    if age < 55:
        return AgeBracket.FROM_45.value
    return AgeBracket.FROM_55.value


def _anniversary_after(date: dt.date, after: dt.date) -> dt.date:
    """The first anniversary of ``date`` on or after ``after``."""
    year = after.year
    while True:
        day = min(date.day, calendar.monthrange(year, date.month)[1])
        candidate = dt.date(year, date.month, day)
        if candidate >= after:
            return candidate
        year += 1


class DemoGenerator:
    """Yields customers one by one; memory stays small apart from the used plates."""

    def __init__(self, *, seed: int, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.rnd = DemoRandom(seed)
        self.tz = now.tzinfo
        # The story is drawn as of a fixed day, then moved to end yesterday: the
        # same seed gives the same people, cars and plates whatever day it runs.
        self.today = STORY_DAY
        self.shift = now.date() - STORY_DAY
        self._phone_numbers = Permutation(10**8, seed * 7919 + 1)
        self._vin_serials = Permutation(len(VIN_PLANTS) * VIN_SERIALS, seed * 7919 + 2)
        self._plates: set[str] = set()
        self._vehicles = 0
        self._surname = Weighted(vocab.SURNAMES)
        self._mobile_prefix = Weighted(vocab.MOBILE_PREFIXES)
        self._plate_prefix = Weighted(vocab.PLATE_PREFIXES)
        self._colour = Weighted(vocab.COLOURS)
        self._email_domain = Weighted(vocab.EMAIL_DOMAINS)
        self.story = Storyteller(self.rnd, today=self.today, tz=self.tz)
        self._referrers: list[tuple[int, dt.datetime]] = []  # recent paying customers: (index, first paid)
        self._owner = Weighted(OWNER_WEIGHTS)
        self._source = Weighted([(code, SOURCE_WEIGHTS.get(code, 2)) for code, _label in DEFAULT_SOURCES])
        self._vehicle_count = Weighted(VEHICLE_COUNT_WEIGHTS)
        self._petrol_model = Weighted([(m, m.weight) for m in vocab.CAR_MODELS if not m.energy])
        self._nev_model = Weighted([(m, m.weight) for m in vocab.CAR_MODELS if m.energy])
        self._model_codes = {m: VIN_ALPHABET[i % 23] + VIN_ALPHABET[i // 23] for i, m in enumerate(vocab.CAR_MODELS)}

    def customers(self, count: int) -> Iterator[CustomerSpec]:
        """``count`` customers; a few bring a family member, who follows them."""
        if not 0 <= count <= MAX_CUSTOMERS:
            raise ValueError(f"between 0 and {MAX_CUSTOMERS:,} customers")
        previous: CustomerSpec | None = None
        for index in range(count):
            family_of = None
            if previous is not None and previous.household is None and self.rnd.random() < FAMILY_SHARE:
                family_of = previous
            spec = self._customer(index, family_of)
            if family_of is not None:
                family_of.household = spec.household = family_of.index
            if previous is not None:
                yield self._moved_to_now(previous)
            previous = spec
        if previous is not None:
            yield self._moved_to_now(previous)

    def _moved_to_now(self, spec: CustomerSpec) -> CustomerSpec:
        shift = self.shift
        spec.created_at += shift
        spec.updated_at += shift
        for event in spec.lifecycle:
            event.at += shift
            if isinstance(event, FollowUpSpec) and event.next_due is not None:
                event.next_due += shift
        for v in spec.vehicles:
            v.created_at += shift
            v.purchase_date += shift
            v.insurance_expiry = v.insurance_expiry + shift if v.insurance_expiry else None
            v.inspection_due = v.inspection_due + shift if v.inspection_due else None
            v.readings = [ReadingSpec(km=r.km, read_at=r.read_at + shift) for r in v.readings]
        return spec

    # --- people ----------------------------------------------------------------------------

    def _customer(self, index: int, family_of: CustomerSpec | None) -> CustomerSpec:
        rnd = self.rnd
        if family_of:
            # Family members share the stage and the shop's staff member, and come later.
            source, converted = "referral", family_of.first_paid_at is not None
            stage, oldest = family_of.stage, (self.today - family_of.created_at.date()).days
        else:
            source = self._source(rnd)
            converted = self.story.converts(source)
            stage, oldest = self.story.stage(converted), CREATED_DAYS
        stage, created_days, visit_days = self.story.timeline(stage, converted, source, oldest)
        owner: str = family_of.owner if family_of else self._owner(rnd)
        r = rnd.random()
        gender = (Gender.MALE if r < 0.70 else Gender.FEMALE if r < 0.97 else Gender.UNKNOWN).value
        # A family member shares the surname half of the time (a child), else a spouse.
        surname: str = family_of.surname if family_of and rnd.random() < 0.5 else self._surname(rnd)
        name = surname + self._given_name(gender)
        age = round(rnd.triangular(22, 72, 38))

        created_at = self._at(self._days_ago(created_days))
        # The paid visits; a file created at the counter pays on that first visit.
        visits = [created_at if days == created_days else self._at(self._days_ago(days)) for days in visit_days]

        phone = ""
        if rnd.random() < 0.98:
            phone = f"+86{self._mobile_prefix(rnd)}{self._phone_numbers(index):08d}"
        wechat = self._wechat() if not phone or rnd.random() < 0.5 else ""
        email = self._email() if rnd.random() < 0.12 else ""
        address = family_of.address if family_of else (self._address() if rnd.random() < 0.55 else "")

        birth_year = birth_month = birth_day = None
        birthday_calendar = BirthdayCalendar.SOLAR.value
        this_year = self.today.year
        if rnd.random() < 0.55:
            year_known = rnd.random() < 0.45
            if rnd.random() < (0.30 if age >= 55 else 0.10):
                birthday_calendar = BirthdayCalendar.LUNAR.value
                birth_month, birth_day = rnd.randint(1, 12), rnd.randint(1, 30 if rnd.random() < 0.05 else 29)
            else:
                year = this_year - age
                birth_month = rnd.randint(1, 12)
                birth_day = rnd.randint(1, calendar.monthrange(year, birth_month)[1])
            if year_known:
                birth_year = this_year - age
        age_bracket = age_bracket_of(age) if rnd.random() < (0.5 if birth_year else 0.6) else ""

        fill, consent = PROFILE[Stage(stage)]
        fill = min(fill * DILIGENCE[owner], 0.95)
        soft = {
            "occupation": self._maybe(fill, vocab.OCCUPATIONS),
            "family": self._maybe(fill, vocab.FAMILIES),
            "personality": self._maybe(fill * 0.8, vocab.PERSONALITIES),
            "habits": self._maybe(fill, vocab.HABITS),
            "hobbies": "、".join(rnd.sample(vocab.HOBBIES, rnd.randint(1, 2))) if rnd.random() < fill else "",
            "lifestyle": self._maybe(fill, vocab.LIFESTYLES),
            "values": self._maybe(fill * 0.6, vocab.VALUES),
            "preferred_time": self._maybe(fill + 0.1, vocab.PREFERRED_TIMES),
            "notes": self._maybe(0.15, vocab.NOTES),
        }
        preferred_channel = ""
        if rnd.random() < fill + 0.1:
            r = rnd.random()
            channel = Channel.WECHAT if r < 0.5 else Channel.PHONE if r < 0.75 else Channel.SMS
            preferred_channel = (Channel.EMAIL if email and r > 0.95 else channel).value

        consents: list[str] = []
        consent_method = ConsentRecord.Method.VERBAL
        if rnd.random() < consent:
            for channel, share in ((Channel.WECHAT, 0.8), (Channel.SMS, 0.6), (Channel.PHONE, 0.4)):
                if rnd.random() < share:
                    consents.append(channel.value)
            if email and rnd.random() < 0.5:
                consents.append(Channel.EMAIL.value)
            if not consents:
                consents.append(Channel.WECHAT.value)
            r = rnd.random()
            if stage == Stage.MEMBER and r < 0.6:
                consent_method = ConsentRecord.Method.PAPER_FORM
            elif r < 0.75:
                consent_method = ConsentRecord.Method.VERBAL
            elif r < 0.9:
                consent_method = ConsentRecord.Method.ONLINE
            else:
                consent_method = ConsentRecord.Method.PHONE

        vehicles = self._vehicles_for(created_at, visits, soft["occupation"])
        lifecycle = self.story.story(stage=stage, source=source, owner=owner, created_at=created_at, visits=visits)
        stage = stage_after(lifecycle)
        updated_at = max(
            [
                created_at,
                *(v.created_at for v in vehicles),
                *(r.read_at for v in vehicles for r in v.readings),
                *(e.at for e in lifecycle if isinstance(e, StageEventSpec) or e.grade),
            ]
        )
        referrer = self._referrer(index, source, created_at, family_of)
        if visits:
            self._referrers.append((index, visits[0]))
            if len(self._referrers) > 2 * REFERRERS_KEPT:
                del self._referrers[:REFERRERS_KEPT]

        return CustomerSpec(
            index=index,
            surname=surname,
            name=name,
            gender=gender,
            phone=phone,
            wechat=wechat,
            email=email,
            address=address,
            birth_year=birth_year,
            birth_month=birth_month,
            birth_day=birth_day,
            birthday_calendar=birthday_calendar,
            age_bracket=age_bracket,
            source=source,
            stage=stage,
            owner=owner,
            tags=self._tags(stage, gender, soft, vehicles),
            consents=consents,
            consent_method=consent_method.value,
            preferred_channel=preferred_channel,
            created_at=created_at,
            updated_at=updated_at,
            vehicles=vehicles,
            occupation=soft["occupation"],
            family=soft["family"],
            personality=soft["personality"],
            habits=soft["habits"],
            hobbies=soft["hobbies"],
            lifestyle=soft["lifestyle"],
            values=soft["values"],
            preferred_time=soft["preferred_time"],
            notes=soft["notes"],
            need=self.story.need(source),
            referrer=referrer,
            lifecycle=lifecycle,
        )

    def _referrer(self, index: int, source: str, created_at: dt.datetime, family_of: CustomerSpec | None) -> int | None:
        """Who referred a file from a referral: the family member, else a recent paying customer."""
        if family_of is not None:
            return family_of.index
        if source != "referral" or not self._referrers or self.rnd.random() >= REFERRAL_SHARE:
            return None
        for _attempt in range(3):
            candidate, paid_at = self.rnd.choice(self._referrers)
            if paid_at < created_at and candidate != index:
                return candidate
        return None

    def _given_name(self, gender: str) -> str:
        rnd = self.rnd
        if gender == Gender.MALE:
            pool = vocab.GIVEN_MALE
        elif gender == Gender.FEMALE:
            pool = vocab.GIVEN_FEMALE
        else:
            pool = vocab.GIVEN_MALE + vocab.GIVEN_FEMALE
        if rnd.random() < 0.25:
            return rnd.choice(pool)
        return rnd.choice(pool) + rnd.choice(pool)

    def _wechat(self) -> str:
        rnd = self.rnd
        if rnd.random() < 0.6:
            return "wxid_" + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(14))
        letters = "".join(rnd.choice("abcdefghjkmnpqrstwxyz") for _ in range(rnd.randint(4, 8)))
        return letters + str(rnd.randint(10, 9999))

    def _email(self) -> str:
        rnd = self.rnd
        if rnd.random() < 0.5:
            return f"{rnd.randint(10_000, 3_999_999_999)}@qq.com"
        letters = "".join(rnd.choice("abcdefghjkmnpqrstwxyz") for _ in range(rnd.randint(4, 9)))
        return f"{letters}{rnd.randint(1, 999)}@{self._email_domain(rnd)}"

    def _address(self) -> str:
        rnd = self.rnd
        district, road = rnd.choice(vocab.DISTRICTS), rnd.choice(vocab.ROADS)
        if rnd.random() < 0.6:
            compound = rnd.choice(vocab.COMPOUNDS)
            return (
                f"{vocab.CITY}{district}{compound}{rnd.randint(1, 30)}幢"
                f"{rnd.randint(1, 4)}单元{rnd.randint(1, 30)}{rnd.randint(1, 4):02d}室"
            )
        return f"{vocab.CITY}{district}{road}{rnd.randint(1, 999)}号"

    def _maybe(self, share: float, values: Sequence[str]) -> str:
        return self.rnd.choice(values) if self.rnd.random() < share else ""

    def _tags(self, stage: str, gender: str, soft: dict[str, str], vehicles: list[VehicleSpec]) -> list[str]:
        rnd = self.rnd
        tags = []
        if (stage == Stage.MEMBER and rnd.random() < 0.6) or (stage == Stage.CUSTOMER and rnd.random() < 0.05):
            tags.append(vocab.TAG_VIP)
        if stage in (Stage.MEMBER, Stage.CUSTOMER) and rnd.random() < (0.15 if stage == Stage.MEMBER else 0.05):
            tags.append(vocab.TAG_SPREADER)
        if rnd.random() < 0.15:
            tags.append(vocab.TAG_PRICE)
        if any(v.new_energy for v in vehicles):
            tags.append(vocab.TAG_NEV)
        if rnd.random() < 0.12:
            tags.append(vocab.TAG_WASH)
        if soft["habits"] == "只认原厂件" or rnd.random() < 0.04:
            tags.append(vocab.TAG_ORIGINAL_PARTS)
        if rnd.random() < 0.015:
            tags.append(vocab.TAG_FLEET)
        if soft["occupation"] == "网约车司机":
            tags.append(vocab.TAG_RIDE_HAILING)
        if rnd.random() < 0.02:
            tags.append(vocab.TAG_COMPLAINED)
        if gender == Gender.FEMALE and vehicles and rnd.random() < 0.4:
            tags.append(vocab.TAG_FEMALE_DRIVER)
        return sorted(tags)

    # --- time --------------------------------------------------------------------------------

    def _days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def _at(self, day: dt.date) -> dt.datetime:
        """A moment during opening hours (08:30-18:30) of ``day``."""
        minutes = self.rnd.randint(0, 600)
        return dt.datetime.combine(day, dt.time(8, 30), tzinfo=self.tz) + dt.timedelta(minutes=minutes)

    # --- vehicles ----------------------------------------------------------------------------

    def _vehicles_for(self, created_at: dt.datetime, visits: list[dt.datetime], occupation: str) -> list[VehicleSpec]:
        """The file's cars; the first is read at every paid visit, so a paying customer has one."""
        rnd = self.rnd
        vehicles = []
        yearly_km = 60_000 if occupation == "网约车司机" else rnd.randint(5_000, 20_000)
        count = self._vehicle_count(rnd)
        for n in range(max(count, 1) if visits else count):
            if n == 0:
                since, seen = created_at, visits
            else:
                latest = visits[-1] if visits else created_at
                span = max((latest.date() - created_at.date()).days, 0)
                since = self._at(created_at.date() + dt.timedelta(days=rnd.randint(0, span)))
                since = max(since, created_at)
                seen = [v for v in visits if v >= since and rnd.random() < 0.5]
            vehicles.append(self._vehicle(since, seen, yearly_km))
        return vehicles

    def _vehicle(self, since: dt.datetime, visits: list[dt.datetime], yearly_km: int) -> VehicleSpec:
        rnd = self.rnd
        first_day = since.date()
        model = None
        if rnd.random() < NEW_ENERGY_SHARE:
            model = self._nev_model(rnd)
        if model is None or model.first_year > first_day.year:
            model = self._petrol_model(rnd)
            while model.first_year > first_day.year:
                model = self._petrol_model(rnd)
        oldest = max(model.first_year, first_day.year - 14)
        year = first_day.year - min(round(rnd.triangular(0, 14, 2)), first_day.year - oldest)
        start = dt.date(year, 1, 1)
        purchase_date = start + dt.timedelta(
            days=rnd.randint(0, max((min(first_day, dt.date(year, 12, 31)) - start).days, 0))
        )

        readings = []
        km_per_day = yearly_km * rnd.uniform(0.85, 1.15) / 365
        previous = 0
        for visit in visits:
            km = max(round((visit.date() - purchase_date).days * km_per_day) + rnd.randint(0, 300), previous + 100)
            readings.append(ReadingSpec(km=km, read_at=visit))
            previous = km

        last_seen = (visits[-1] if visits else since).date()
        insurance = _anniversary_after(purchase_date, last_seen) if rnd.random() < 0.7 else None
        inspection = _anniversary_after(purchase_date, last_seen) if rnd.random() < 0.5 else None
        vin, failed = self._vin(model, year)
        return VehicleSpec(
            plate=self._plate(model.energy),
            vin=vin,
            vin_check_failed=failed,
            brand=model.brand,
            model=model.model,
            year=year,
            colour=self._colour(rnd),
            purchase_date=purchase_date,
            insurance_expiry=insurance,
            inspection_due=inspection,
            created_at=since,
            new_energy=bool(model.energy),
            readings=readings,
        )

    def _plate(self, energy: str) -> str:
        """An unused plate: 8 characters for new-energy vehicles, 7 otherwise."""
        rnd = self.rnd
        for _attempt in range(1000):
            prefix = self._plate_prefix(rnd)
            if energy:
                second = rnd.choice(PLATE_LETTERS) if rnd.random() < 0.2 else str(rnd.randint(0, 9))
                plate = f"{prefix}{energy}{second}{rnd.randint(0, 9999):04d}"
            else:
                serial = [str(rnd.randint(0, 9)) for _ in range(5)]
                letters = 0 if rnd.random() < 0.1 else 1 if rnd.random() < 0.55 else 2
                for _letter in range(letters):
                    serial[rnd.randint(0, 4)] = rnd.choice(PLATE_LETTERS)
                plate = prefix + "".join(serial)
            if plate not in self._plates:
                self._plates.add(plate)
                return plate
        raise RuntimeError("no unused plate found: too many vehicles for the plate prefixes")

    def _vin(self, model: vocab.CarModel, year: int) -> tuple[str, bool]:
        """(VIN, check digit fails). Serial numbers are unique by construction."""
        rnd = self.rnd
        number = self._vin_serials(self._vehicles)
        self._vehicles += 1
        if rnd.random() < NO_VIN_SHARE:
            return "", False
        plant, serial = divmod(number, VIN_SERIALS)
        vds = self._model_codes[model] + "".join(rnd.choice(VIN_ALPHABET) for _ in range(3))
        vin = f"{model.wmi}{vds}0{vin_year_code(year)}{VIN_PLANTS[plant]}{serial:06d}"
        digit = check_digit(vin)
        if not model.check_digit and rnd.random() < 0.5:
            wrong = "0123456789X"[("0123456789X".index(digit) + rnd.randint(1, 10)) % 11]
            return vin[:8] + wrong + vin[9:], True
        return vin[:8] + digit + vin[9:], False
