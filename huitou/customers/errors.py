"""Messages for refused input. Tests import these constants."""

from django.utils.translation import gettext_lazy as _

NAME_REQUIRED = _("Enter the customer's name.")
CONTACT_REQUIRED = _("Enter a phone number or a WeChat ID so the shop can reach the customer.")
PHONE_INVALID = _("This is not a valid phone number. Enter an 11-digit mobile number or a landline with its area code.")
PHONE_TAKEN = _("Another customer of this organization already has this phone number.")
EMAIL_INVALID = _("Enter a valid email address.")
BIRTHDAY_INVALID = _("This birthday does not exist. Check the month and day.")
BIRTHDAY_INCOMPLETE = _("Enter both the month and the day of the birthday.")
BIRTH_YEAR_INVALID = _("Enter a birth year between 1900 and this year.")
OWNER_INVALID = _("Choose an active staff member of this organization as the owner.")
SOURCE_INVALID = _("Choose one of this organization's sources.")
TAG_TOO_LONG = _("A tag has at most 30 characters.")
STAGE_NOT_HERE = _(
    "The lifecycle stage is not edited with the file: it follows from follow-ups and orders, "
    "or is changed on its own with a reason."
)
REFERRER_INVALID = _("Choose another existing customer of this organization as the referrer.")
CHOICE_INVALID = _("Choose one of the offered values.")

PLATE_REQUIRED = _("Enter the licence plate.")
PLATE_INVALID = _(
    "This is not a valid Chinese licence plate. Expected a province character, a letter and 5 characters "
    "(e.g. 粤B12345), or 6 for a new-energy vehicle (e.g. 粤AD12345)."
)
PLATE_TAKEN = _("Another vehicle of this organization already has this plate.")
VIN_INVALID = _("A VIN has 17 characters: digits and capital letters except I, O and Q.")
VIN_CHECK_FAILED = _(
    "The VIN's check digit (9th character) does not match: please check it. If the vehicle really carries "
    "this VIN (some imported cars have no check digit), confirm it."
)
VIN_TAKEN = _("Another vehicle of this organization already has this VIN.")
YEAR_INVALID = _("Enter a model year between 1950 and next year.")
MILEAGE_INVALID = _("Enter the mileage as a whole number of kilometres.")
MILEAGE_LOWER = _(
    "This reading (%(km)s km) is lower than the previous one (%(previous)s km). If the odometer was "
    "replaced, mark the reading as an odometer replacement."
)
MILEAGE_HIGHER_THAN_LATER = _(
    "This reading (%(km)s km) is higher than a later one (%(later)s km). Check the date and the number."
)
MILEAGE_FUTURE = _("A mileage reading cannot be in the future.")

HOUSEHOLD_SELF = _("A customer cannot be linked to themselves.")
TRANSFER_SAME_OWNER = _("The vehicle already belongs to this customer.")
CONSENT_PURPOSE_REQUIRED = _("Say what the consent is for.")
CUSTOMER_DELETED = _("This customer has been deleted.")
CUSTOMER_NOT_FOUND = _("Choose an existing customer of this organization.")
VEHICLE_DELETED = _("This vehicle has been removed.")
