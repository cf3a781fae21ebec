from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huitou.lib import completeness as completeness_lib
from huitou.lib.birthdays import Birthday
from huitou.lib.phones import mask_phone, national_digits
from huitou.tenancy.models import TenantManager, TenantModel, TenantQuerySet


class Stage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    INTENT = "intent", _("Intent")
    CUSTOMER = "customer", _("Customer")
    MEMBER = "member", _("Member")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class IntentGrade(models.TextChoices):
    """How soon a prospect will buy."""

    H = "H", _("H: within a week")
    A = "A", _("A: within a month")
    B = "B", _("B: within three months")
    C = "C", _("C: later or unsure")


class Gender(models.TextChoices):
    UNKNOWN = "unknown", _("Not given")
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class AgeBracket(models.TextChoices):
    UNKNOWN = "", _("Not given")
    UNDER_25 = "under_25", _("Under 25")
    FROM_25 = "25_34", _("25–34")
    FROM_35 = "35_44", _("35–44")
    FROM_45 = "45_54", _("45–54")
    FROM_55 = "55_plus", _("55 and over")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")


# Each channel with the field that holds its consent.
_CONSENT_FIELDS = tuple((channel, f"consent_{channel}") for channel in Channel.values)


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar calendar")
    LUNAR = "lunar", _("Lunar calendar")


class Source(TenantModel):
    """How customers come to the shop; configurable per organization."""

    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["sort_order", "pk"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="source_unique_code_per_org")]

    def __str__(self) -> str:
        return self.label


class Tag(TenantModel):
    name = models.CharField(_("name"), max_length=30)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name


class Household(TenantModel):
    """Family members who are all customers: one family often brings several cars."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")


class CustomerQuerySet(TenantQuerySet):
    def active(self) -> CustomerQuerySet:
        return self.filter(deleted_at__isnull=True)


class Customer(TenantModel):
    """The customer file (客户档案): hard facts, soft profile, consent, stage."""

    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birthday month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birthday day"), null=True, blank=True)
    birthday_calendar = models.CharField(
        _("birthday calendar"), max_length=5, choices=BirthdayCalendar.choices, default=BirthdayCalendar.SOLAR
    )
    age_bracket = models.CharField(_("age"), max_length=10, choices=AgeBracket.choices, blank=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("source")
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.PROSPECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")

    # The lifecycle, kept by the lifecycle services: what a prospect came for, who
    # referred them, their latest intent grade and when they first reached intent
    # and their first paid order (the funnel reads these).
    need = models.CharField(_("need"), max_length=200, blank=True)
    referrer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("referred by")
    )
    intent_grade = models.CharField(_("intent grade"), max_length=1, choices=IntentGrade.choices, blank=True)
    intent_at = models.DateTimeField(_("reached intent"), null=True, blank=True, editable=False)
    converted_at = models.DateTimeField(_("first paid order"), null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    # Consent to promotional messages, per channel: the latest ConsentRecord.
    consent_sms = models.BooleanField(_("SMS"), default=False)
    consent_wechat = models.BooleanField(_("WeChat"), default=False)
    consent_phone = models.BooleanField(_("phone call"), default=False)
    consent_email = models.BooleanField(_("email"), default=False)
    preferred_channel = models.CharField(_("preferred channel"), max_length=10, choices=Channel.choices, blank=True)
    preferred_time = models.CharField(_("preferred time"), max_length=50, blank=True)

    # Soft profile ("software"): about 80% of what a file is worth.
    occupation = models.CharField(_("occupation and work"), max_length=100, blank=True)
    family = models.CharField(_("family"), max_length=200, blank=True)
    personality = models.CharField(_("personality"), max_length=200, blank=True)
    habits = models.CharField(_("consumption habits"), max_length=200, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=200, blank=True)
    lifestyle = models.CharField(_("lifestyle"), max_length=200, blank=True)
    values = models.CharField(_("values"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # Visits, kept by the service-order services: paid orders, their totals
    # after adjustments, and when the first and last of them were paid.
    visit_count = models.PositiveIntegerField(_("visits"), default=0, editable=False)
    lifetime_spend = models.DecimalField(
        _("lifetime spend"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    first_visit_at = models.DateTimeField(_("first visit"), null=True, blank=True, editable=False)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True, editable=False)

    # Search keys and scores kept by the services.
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=50, blank=True, editable=False)
    completeness = models.PositiveSmallIntegerField(_("file completeness"), default=0, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantManager.from_queryset(CustomerQuerySet)()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "phone"],
                condition=Q(deleted_at__isnull=True) & ~Q(phone=""),
                name="customer_unique_phone_per_org",
            ),
        ]
        indexes = [
            # The search's keys on the customer row answer with the id and the pinyin the page is sorted by,
            # read from the index alone: the last four digits of the phone, and the id of a customer whose
            # car matched (the plate or VIN found the customer id; the pinyin comes with it).
            models.Index(
                fields=["organization", "phone_last4"],
                include=["name_pinyin", "id"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_active_last4_idx",
            ),
            models.Index(
                fields=["organization", "id"],
                include=["name_pinyin"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_active_id_idx",
            ),
            # A name's first characters (张, 高倩) match up to a thousand customers: the search picks the page's
            # ids by pinyin from the index alone. The only index of the names: beside a smaller one over every
            # row, the planner, underestimating a Chinese prefix's matches, took that one and read each row.
            models.Index(
                fields=["organization", "name"],
                opclasses=["int8_ops", "text_pattern_ops"],
                include=["name_pinyin", "id"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_active_name_idx",
            ),
            # Letter searches read these alone (index-only): matching keys and ids,
            # sorted for the page, before any customer row is fetched.
            models.Index(
                fields=["organization", "name_pinyin", "id"],
                opclasses=["int8_ops", "text_pattern_ops", "int8_ops"],
                include=["name_initials"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_pinyin_idx",
            ),
            models.Index(
                fields=["organization", "name_initials", "id"],
                opclasses=["int8_ops", "text_pattern_ops", "int8_ops"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_initials_idx",
            ),
            # Lists by stage (the prospect list, the stage filter) and their counts, read from the index alone.
            models.Index(
                fields=["organization", "stage", "-id"],
                condition=Q(deleted_at__isnull=True),
                name="customer_org_active_stage_idx",
            ),
            models.Index(fields=["organization", "owner", "-id"], name="customer_org_owner_idx"),
            models.Index(fields=["organization", "-id"], name="customer_org_recent_idx"),
            models.Index(fields=["organization", "last_visit_at"], name="customer_org_last_visit_idx"),
            # New customers by the day of their first paid visit (the dashboard's daily facts).
            models.Index(
                fields=["organization", "first_visit_at"],
                include=["source", "deleted_at"],
                condition=Q(first_visit_at__isnull=False),
                name="customer_org_first_visit_idx",
            ),
            # The funnel: prospects created in a date range, read from the index alone.
            models.Index(
                fields=["organization", "created_at"],
                include=["source", "owner", "intent_at", "converted_at", "lifetime_spend", "deleted_at"],
                name="customer_org_created_idx",
            ),
            # Conversions dated in a period by owner (the staff ranking), read from the index alone.
            models.Index(
                fields=["organization", "converted_at"],
                include=["owner"],
                condition=Q(deleted_at__isnull=True, converted_at__isnull=False),
                name="customer_org_converted_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("customers:detail", args=[self.pk])

    @property
    def phone_display(self) -> str:
        return national_digits(self.phone)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def birthday(self) -> Birthday | None:
        if self.birth_month and self.birth_day:
            return Birthday(self.birth_month, self.birth_day, self.birthday_calendar, self.birth_year)
        return None

    def next_birthday(self, today: dt.date) -> dt.date | None:
        birthday = self.birthday
        return birthday.next_solar_date(today) if birthday else None

    def consents(self) -> dict[str, bool]:
        return {channel: getattr(self, field) for channel, field in _CONSENT_FIELDS}

    def completeness_facts(self, has_vehicle: bool) -> dict[str, object]:
        return {
            "name": self.name,
            "gender": self.gender != Gender.UNKNOWN,
            "phone": self.phone,
            "wechat": self.wechat,
            "email": self.email,
            "address": self.address,
            "birthday": self.birth_month,
            "age_bracket": self.age_bracket or self.birth_year,
            "vehicle": has_vehicle,
            "occupation": self.occupation,
            "family": self.family,
            "personality": self.personality,
            "habits": self.habits,
            "hobbies": self.hobbies,
            "lifestyle": self.lifestyle,
            "values": self.values,
            "preferred_channel": self.preferred_channel,
            "preferred_time": self.preferred_time,
            "consent": any(self.consents().values()),
        }

    def missing_profile_fields(self, has_vehicle: bool) -> list[str]:
        return completeness_lib.missing(self.completeness_facts(has_vehicle))


class CustomerTag(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "customer", "tag"], name="customertag_unique"),
        ]
        indexes = [models.Index(fields=["organization", "tag", "customer"], name="customertag_org_tag_idx")]


class ConsentRecord(TenantModel):
    """Consent given or withdrawn for one channel: when, how, for what purpose.

    Append-only; the customer's ``consent_<channel>`` flag is the latest entry.
    """

    class Method(models.TextChoices):
        PAPER_FORM = "paper_form", _("Signed paper form")
        VERBAL = "verbal", _("Said in person")
        PHONE = "phone", _("Said on the phone")
        ONLINE = "online", _("Online form")
        SMS_REPLY = "sms_reply", _("Replied to an SMS")
        IMPORT = "import", _("Imported record")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_records")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    granted = models.BooleanField()
    method = models.CharField(max_length=20, choices=Method.choices)
    purpose = models.CharField(max_length=200)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "customer", "-at"], name="consent_org_customer_idx")]


class VehicleQuerySet(TenantQuerySet):
    def active(self) -> VehicleQuerySet:
        return self.filter(deleted_at__isnull=True)


class Vehicle(TenantModel):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="vehicles")
    plate = models.CharField(_("plate"), max_length=10)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    vin_check_failed = models.BooleanField(default=False, editable=False)
    brand = models.CharField(_("brand"), max_length=30, blank=True)
    model = models.CharField(_("model"), max_length=50, blank=True)
    year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=20, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    insurance_expiry = models.DateField(_("insurance expiry"), null=True, blank=True)
    inspection_due = models.DateField(_("annual inspection due"), null=True, blank=True)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True, editable=False)
    mileage_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantManager.from_queryset(VehicleQuerySet)()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "plate"],
                condition=Q(deleted_at__isnull=True),
                name="vehicle_unique_plate_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "vin"],
                condition=Q(deleted_at__isnull=True) & ~Q(vin=""),
                name="vehicle_unique_vin_per_org",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer"], name="vehicle_org_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.plate

    @property
    def title(self) -> str:
        return " ".join(p for p in (self.brand, self.model) if p)


class VehicleOwnership(TenantModel):
    """Who owned a vehicle when: a vehicle keeps its history across owners."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "vehicle", "-since"], name="ownership_org_vehicle_idx")]


class MileageReading(TenantModel):
    """An odometer reading. Append-only; the vehicle caches the latest."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by staff")
        ORDER = "order", _("Service order")
        IMPORT = "import", _("Import")

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="readings")
    km = models.PositiveIntegerField(_("mileage (km)"))
    read_at = models.DateTimeField(_("read at"))
    odometer_replaced = models.BooleanField(_("odometer replaced"), default=False)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "vehicle", "-read_at"], name="reading_org_vehicle_idx")]
