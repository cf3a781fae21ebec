"""In-process domain events of service orders. See docs/events.md.

Each is a Django signal sent with ``sender=ServiceOrder`` and the keyword
arguments ``order`` and ``by`` (the staff member, or None), from inside the
transaction that made the change: a receiver's writes commit or roll back
with it. A receiver doing slow or outside work (messages, heavy sums)
enqueues a huey task with ``transaction.on_commit`` instead of doing it
inline.
"""

from django.dispatch import Signal

order_completed = Signal()  # the work is done; the bill is final unless lines change
order_paid = Signal()  # payments cover the total: the visit counts
order_voided = Signal()  # kwargs also: reason
order_adjusted = Signal()  # a paid order's total changed; kwargs also: adjustment
