"""In-process domain events of customer files. See docs/events.md.

Django signals sent with ``sender=Customer`` from inside the transaction
that made the change, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

customer_created = Signal()  # kwargs: customer, by (the staff member, or None)
customer_deleted = Signal()  # kwargs: customer (deleted_at set), by
customer_restored = Signal()  # kwargs: customer (deleted_at cleared), by
# kwargs: keep, other, by — sent by the merge before other's rows move to keep; a table whose
# model sets ``merged_by_receiver = True`` is left to its app's receiver (membership balances).
customers_merging = Signal()
