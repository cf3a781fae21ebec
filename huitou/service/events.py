"""In-process domain events of service orders. See docs/events.md.

Each is a Django signal sent with ``sender=ServiceOrder`` and the keyword
arguments ``order`` and ``by`` (the staff member, or None), from inside the
transaction that made the change: a receiver's writes commit or roll back
with it. A receiver doing slow or outside work (messages, heavy sums)
enqueues a huey task with ``transaction.on_commit`` instead of doing it
inline.

An event exists only while something receives it: the app that first needs
another (an order completed) adds it with its receiver.
"""

from django.dispatch import Signal

order_paid = Signal()  # payments cover the total: the visit counts
order_voided = Signal()  # order, by, reason: an unpaid order is cancelled
order_adjusted = Signal()  # order, by, adjustment: a paid order's total changed (a refund follows)
# order, payment, by: a payment (or a refund, negative) was recorded; a receiver that raises
# refuses it (a stored-value payment the balance does not cover) and nothing is written.
payment_taken = Signal()
order_line_added = Signal()  # order, line, by, now: a service or part line was added (now: when)
order_line_removed = Signal()  # order, line, by: a line is about to be removed (its row still exists)
