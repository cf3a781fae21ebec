"""Messages of the exports, as tests import them."""

from django.utils.translation import gettext_lazy as _

UNKNOWN_SOURCE = _("There is no such list to export.")
UNKNOWN_FORMAT = _("Choose .xlsx or .csv.")
NOT_READY = _("The export is not ready yet.")
EXPIRED = _("The export file has been removed. Export the list again.")
