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
