"""Why a funnel query is refused. Tests import these; pages and the API show them per field."""

from django.utils.translation import gettext_lazy as _

RANGE_REVERSED = _("The end date is before the start date.")
RANGE_TOO_LONG = _("Choose a range of at most %(days)s days.")
BY_INVALID = _("Group by source or by staff.")

# Grades (A/B/C): the manual override and the store manager's rules.
GRADE_INVALID = _("Choose grade A, B or C.")
GRADE_REASON_REQUIRED = _("Say why the grade is set by hand.")
SEGMENT_INVALID = _("Choose segments from the list.")
REFERRALS_INVALID = _("Enter a whole number of referrals from 1 to 1000.")
TIER_UNKNOWN = _("Choose a membership tier of this organization.")
WINDOW_INVALID = _("Enter a window of 1 to 60 months.")

# The dashboard.
GRAIN_INVALID = _("Show the figures by day, by week or by month.")
SHOP_UNKNOWN = _("Choose a shop of this organization.")

# Saved segments.
SEGMENT_NAME_REQUIRED = _("Give the segment a name.")
SEGMENT_NAME_TOO_LONG = _("A segment's name has at most %(max)s characters.")
SEGMENT_NAME_TAKEN = _("A segment of this name already exists.")
SEGMENT_EMPTY = _("Choose at least one condition: a segment without any would be every customer.")
STAGE_INVALID = _("Choose a stage from the list.")
RFM_SEGMENT_INVALID = _("Choose an RFM segment from the list.")
TAGS_INVALID = _("Give at most %(max)s tags of at most 30 characters each.")
OWNER_UNKNOWN = _("Choose a member of staff of this organization.")
DAYS_INVALID = _("Enter a whole number of days from 1 to 3650.")
DAYS_REVERSED = _("“Within” must be fewer days than “more than … days ago”, or nobody matches.")
SPEND_INVALID = _("Enter an amount in yuan from 0 to 99,999,999.99.")
SPEND_REVERSED = _("The lowest spend is above the highest.")
BRAND_TOO_LONG = _("A brand has at most 30 characters.")
AGE_INVALID = _("Enter a car age in whole years from 0 to 50.")
AGE_REVERSED = _("The youngest car age is above the oldest.")
