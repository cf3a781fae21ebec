"""Messages for refused service writes. Tests import these constants."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class StateConflict(Exception):
    """A write the order or appointment state machine forbids (HTTP 409)."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


class RoleRefused(PermissionDenied):
    """A write the caller's role may not make (HTTP 403), with the reason and the field it concerns."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


ORDER_LOCKED = _("This order is paid or void and can no longer be changed. Record an adjustment instead.")
ORDER_NOT_PAID = _("Only a paid order takes adjustments; change the lines of an unpaid order directly.")
ORDER_NOT_COMPLETED = _("Complete the order before taking payment.")
ORDER_VOID = _("This order is void.")
ORDER_CANNOT_START = _("Only an open order can be started.")
ORDER_CANNOT_COMPLETE = _("Only an open or started order can be completed.")
ORDER_CANNOT_VOID_PAID = _("A paid order cannot be voided. Record an adjustment (and a refund) instead.")
ORDER_ALREADY_VOID = _("This order is already void.")
PAYMENT_TOO_MUCH = _("This payment (%(amount)s) is more than the amount due (%(due)s).")
PAYMENT_NOTHING_DUE = _("Nothing is due on this order.")
PAYMENT_WRONG_SIGN = _("The amount due is %(due)s: a payment must bring it towards zero.")
PAYMENT_AMOUNT_INVALID = _("Enter an amount in yuan with at most two decimal places.")
PAYMENT_METHOD_INVALID = _("Choose a payment method.")
VOID_REASON_REQUIRED = _("Say why the order is void.")
ADJUSTMENT_REASON_REQUIRED = _("Say why the bill changes.")
ADJUSTMENT_ZERO = _("An adjustment changes the total: enter an amount other than zero.")
ADJUSTMENT_BELOW_ZERO = _("The total cannot go below zero.")
QUANTITY_INVALID = _("Enter a quantity greater than zero, with at most two decimal places.")
PRICE_INVALID = _("Enter a price of zero or more, with at most two decimal places.")
DISCOUNT_INVALID = _("The discount must be between zero and the line's full price.")
ITEM_REQUIRED = _("Choose one service item or one part.")
ITEM_UNKNOWN = _("Choose an active service item or part of this organization.")
TECHNICIAN_INVALID = _("Choose a staff member of this organization as the technician.")
VEHICLE_UNKNOWN = _("Choose an existing vehicle of this organization.")
SHOP_UNKNOWN = _("Choose one of your shops.")
PRICE_NOT_YOURS = _(
    "Only a store manager or a service advisor may set a line's price or discount; "
    "leave them empty to charge the shop's price."
)
RECOMMENDATION_DECIDED = _("The customer has already decided on this recommendation.")
DESCRIPTION_REQUIRED = _("Describe the work.")
URGENCY_INVALID = _("Choose how urgent the work is.")
ADVISOR_INVALID = _("Choose an active service advisor of this organization.")
CUSTOMER_UNKNOWN = _("Choose an existing customer of this organization.")
ORDER_HAS_PAYMENTS = _(
    "Money has been received for this order, so it cannot be voided. Take the rest, then record an adjustment "
    "and a refund."
)
TOTAL_TOO_LARGE = _("The total would be too large.")
DISCOUNTS_EXCEED_LINES = _("The order's discounts would come to more than its lines: remove a discount first.")
DISCOUNT_MORE_THAN_DUE = _("A discount of %(amount)s is more than the %(total)s it would come off.")
HOURS_WEEKDAY_INVALID = _("Choose a weekday.")
HOURS_CLOSE_BEFORE_OPEN = _("The closing time must be after the opening time.")
SLOT_LENGTH_INVALID = _("A slot lasts between 10 minutes and 8 hours.")
SLOT_LONGER_THAN_DAY = _("The day is shorter than one slot.")
HOURS_NEEDED = _("Needed on an open day.")
BAYS_INVALID = _("Enter between 1 and 100 bays.")
CODE_TAKEN = _("Another item of this organization already has this code.")

CONVERT_NEEDS_CAR = _("Add the customer's car to the file first: an order is opened for a car.")
SLOT_FULL = _("This time is fully booked. Choose another time.")
SLOT_CLOSED = _("The shop is not open at this time.")
SLOT_PAST = _("This time has already passed.")
APPOINTMENT_TRANSITION = _("An appointment that is %(state)s cannot become %(target)s.")

WARRANTY_MONTHS_INVALID = _("Enter the warranty in whole months from 1 to 120, or leave it empty.")
WARRANTY_KM_INVALID = _("Enter the warranty in whole kilometres from 1 to 500,000, or leave it empty.")
WARRANTY_NOT_YOURS = _(
    "Only a store manager or a service advisor may promise other warranty terms than the item's; "
    "leave them empty to give the item's terms."
)
WARRANTY_ON_DISCOUNT = _("A discount line carries no warranty.")
WARRANTY_REASON_REQUIRED = _("The order is paid: say why its warranty changes.")
WARRANTY_CHANGE_NOT_YOURS = _("Only a store manager or a service advisor may change the warranty promised on a line.")
