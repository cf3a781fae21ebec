"""Messages for refused care writes. Tests import these constants."""

from django.utils.translation import gettext_lazy as _

TASK_CLOSED = _("This care task is already closed.")
RESULT_REQUIRED = _("Say what came of it.")
SKIP_REASON_REQUIRED = _("Say why it is skipped.")
SCORE_REQUIRED = _("Record the customer's satisfaction from 1 to 5.")
SCORE_ONLY_FOR_CALLBACKS = _("Only a callback records a satisfaction score.")
NOT_YOUR_TASK = _("This task belongs to another staff member.")

# The callback questionnaire (客户意见卡).
ANSWERS_ONLY_FOR_CALLBACKS = _("Only a callback records answers to the questionnaire.")
ANSWER_UNKNOWN_QUESTION = _("Answer the questions of the questionnaire only.")
ANSWER_RATING = _("Answer “%(question)s” with a rating from 1 to 5.")
ANSWER_TEXT = _("Answer “%(question)s” in at most 500 characters.")
ANSWER_REQUIRED = _("“%(question)s” must be answered.")
QUESTION_TEXT_REQUIRED = _("Write the question.")
QUESTION_KIND_UNKNOWN = _("Choose a rating or words.")

# Complaints (投诉).
COMPLAINT_SUMMARY_REQUIRED = _("Say what the complaint is about.")
COMPLAINT_OWNER_UNKNOWN = _("Choose an active staff member who handles complaints.")
COMPLAINT_VEHICLE_NOT_THEIRS = _("This vehicle is not the customer's.")
COMPLAINT_ORDER_NOT_THEIRS = _("This order is not the customer's.")
STEP_NOTE_REQUIRED = _("Write down what was said or done.")
STEP_UNKNOWN = _("Choose one of the nine steps.")
STEP_OUT_OF_ORDER = _("Record “%(next)s” first: the steps go in order.")
STEP_ALL_DONE = _("All nine steps are recorded; close the complaint.")
COMPLAINT_CLOSED = _("This complaint is closed; reopen it first.")
COMPLAINT_NOT_CLOSED = _("Only a closed complaint can be reopened.")
FEEDBACK_REQUIRED = _("Record the customer's feedback (the ninth step) before closing.")
REOPEN_REASON_REQUIRED = _("Say why the complaint is reopened.")
COMPENSATION_ONLY_AT_STEP = _("Compensation is given at the step “Compensate”.")
COMPENSATION_ONE = _("Give either a coupon or stored value, not both.")
COMPENSATION_TEMPLATE_UNKNOWN = _("Choose an active coupon template.")
COMPENSATION_AMOUNT = _("Give stored value above 0 and at most 10,000 yuan, to the fen.")
DEADLINE_HOURS = _("A step's deadline is 1 to 720 hours.")
COMPENSATION_ROLE = _("Coupons and stored value are given by the store manager or a service advisor.")

# Care rules (the store manager's settings).
RULE_KIND_UNKNOWN = _("Choose a kind of care.")
RULE_LEAD_DAYS = _("Days ahead: a whole number from 0 to 120.")
RULE_OWNER_MODE = _("Choose who does these tasks.")
RULE_ADVISOR_ONLY_ORDERS = _("Only care that follows an order goes to its service advisor.")
RULE_OWNER_REQUIRED = _("Choose an active staff member who works the care list.")
RULE_SCRIPT_PLACEHOLDER = _("Use only these placeholders, in braces: %(allowed)s.")
RULE_SCRIPT_TOO_LONG = _("Keep the script to 500 characters.")
RULE_GRADE_UNKNOWN = _("Choose grades among A, B and C.")
RULE_TAG_UNKNOWN = _("Choose tags of this organization.")
RULE_TOO_MANY_TAGS = _("Choose at most %(max)s tags.")
RULE_AUDIENCE_CALLBACK = _("A callback follows every paid order: it cannot be limited to some customers.")
