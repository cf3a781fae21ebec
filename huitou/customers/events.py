"""In-process domain events of customer files. See docs/events.md.

Django signals sent with ``sender=Customer`` from inside the transaction
that made the change, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

customer_created = Signal()  # kwargs: customer, by (the staff member, or None)
customer_deleted = Signal()  # kwargs: customer (deleted_at set), by
customer_restored = Signal()  # kwargs: customer (deleted_at cleared), by
