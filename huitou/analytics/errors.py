"""Why a funnel query is refused. Tests import these; pages and the API show them per field."""

from django.utils.translation import gettext_lazy as _

RANGE_REVERSED = _("The end date is before the start date.")
RANGE_TOO_LONG = _("Choose a range of at most %(days)s days.")
BY_INVALID = _("Group by source or by staff.")
