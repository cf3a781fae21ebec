"""Events of care (docs/events.md).

Sent inside the transaction that made the change, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# kwargs: organization_id, closed_at, by (None: the product) — care tasks closed as done or skipped
care_tasks_closed = Signal()
