"""Messages for refused lifecycle input. Tests import these constants."""

from django.utils.translation import gettext_lazy as _

STAGE_INVALID = _("Unknown lifecycle stage.")
STAGE_SAME = _("The customer is already at this stage.")
STAGE_REASON_REQUIRED = _("Say why the stage changes.")
STAGE_NOT_BY_HAND = _(
    "This stage is not set by hand: a first paid order makes a customer, joining membership a member, "
    "and the daily check of visits a dormant customer."
)
STAGE_ALREADY_CONVERTED = _("This customer has paid for an order already and cannot go back to prospect or intent.")
STAGE_NOT_CONVERTED = _("Only a customer who has paid for an order can be set back to customer.")

CHANNEL_INVALID = _("Choose how the customer was reached.")
CONTENT_REQUIRED = _("Write down what was said.")
GRADE_INVALID = _("Choose an intent grade: H, A, B or C.")
NEXT_DUE_INVALID = _("Enter the next step's date as YYYY-MM-DD.")
NEXT_DUE_PAST = _("The next step cannot be due in the past.")
NEXT_STEP_REQUIRED = _("Say what the next step is.")
TASK_INVALID = _("Choose an open follow-up task of this customer.")

PLAN_NAME_REQUIRED = _("Give the plan a name.")
PLAN_STEPS_REQUIRED = _("A plan needs at least one step.")
PLAN_STEP_DAY_INVALID = _("A step's day is a whole number from 0 to 365.")
PLAN_STEP_ACTION_REQUIRED = _("Say what to do at each step.")
PLAN_DUPLICATE = _("Another active plan already applies to this stage and source.")

OWNER_MODE_INVALID = _("Choose a staff member or round robin.")
ROTATION_EMPTY = _("No staff take prospects in turn yet. Choose them under Staff, or choose an owner.")
REASSIGN_TARGET_REQUIRED = _("Choose at least one active staff member of this organization to take the customers.")
REASSIGN_TO_SELF = _("The customers cannot be handed to the staff member who leaves.")
DEACTIVATE_SELF = _("You cannot deactivate yourself.")
DEACTIVATE_LAST_OWNER = _("An organization needs at least one active store manager.")
DEACTIVATE_NOT_YOURS = _("Only a store manager may deactivate staff.")
REASSIGN_ALL_ON_LEAVING = _("A staff member who leaves hands over all their customers: leave out customer_ids.")

SOURCE_REQUIRED = _("Choose how the prospect came to the shop.")
DUPLICATE_PHONE = _("%(name)s already has this phone number.")
DUPLICATE_PLATE = _("The car %(plate)s is already in the file of %(name)s.")
MERGE_SAME = _("Choose two different customers to merge.")
MERGE_DELETED = _("Only active customer files can be merged.")

# The next step's text when a follow-up gives only its date.
NEXT_STEP_DEFAULT = _("Follow up again")
