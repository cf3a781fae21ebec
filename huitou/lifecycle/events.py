"""Events of the lifecycle (docs/events.md).

Sent inside the transaction that made the change, so a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# kwargs: followup (recorded; the tasks it answered were closed as done at its ``at``), by
followup_recorded = Signal()
# kwargs: organization_id, customer_ids, from_user, to_user_ids, by — files handed to other owners
customers_reassigned = Signal()
# kwargs: organization_id, customer_ids, to_stage, reason, at — customers moved to a stage (one
# customer by a service, or a batch of the daily visit check)
stages_moved = Signal()
# kwargs: customer (``converted_at`` just set: its first paid order) — a prospect became a customer
customer_converted = Signal()
