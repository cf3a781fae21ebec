"""In-process domain events of customer files. See docs/events.md.

Django signals sent with ``sender=Customer`` from inside the transaction
that made the change, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

customer_created = Signal()  # kwargs: customer, by (the staff member, or None)
# kwargs: customer, by, changes ({field: [before, after]}, the history's), owner_id_before: a file's fields changed
customer_updated = Signal()
# kwargs: customer (its new ``completeness`` set): the file's completeness score changed
customer_completeness_changed = Signal()
customer_deleted = Signal()  # kwargs: customer (deleted_at set), by
customer_restored = Signal()  # kwargs: customer (deleted_at cleared), by
# kwargs: keep, other, by — sent by the merge before other's rows move to keep; a table whose
# model sets ``merged_by_receiver = True`` is left to its app's receiver (membership balances).
customers_merging = Signal()
