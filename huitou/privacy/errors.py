"""Messages of the personal-data rights, as tests import them."""

from django.utils.translation import gettext_lazy as _

REASON_REQUIRED = _("Say why the customer is erased (for example: the customer asked on 5 December).")
CONFIRM_REQUIRED = _("Type the customer number to confirm: erasing cannot be undone.")
ALREADY_ERASED = _("This customer's personal data has already been erased.")
ERASED_NO_RESTORE = _("An erased file cannot be restored.")
RETENTION_INVALID = _("Enter a number of months between 1 and 120, or leave it empty to keep prospects.")
