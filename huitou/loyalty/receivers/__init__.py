"""Membership reacts to service orders (docs/events.md); connected in ``LoyaltyConfig.ready``.

Modules are imported in this order, which is the order receivers of one event run in.
A paid order reaches the rules through one receiver (``paid``), which reads what they
need once and runs them in its own order: the tier is settled before points are earned
at its multiplier, and referral rewards last.
"""

# isort: off
from huitou.loyalty.receivers import tiers  # noqa: F401
from huitou.loyalty.receivers import points  # noqa: F401
from huitou.loyalty.receivers import coupons  # noqa: F401
from huitou.loyalty.receivers import cards  # noqa: F401
from huitou.loyalty.receivers import stored_value  # noqa: F401
from huitou.loyalty.receivers import referrals  # noqa: F401
from huitou.loyalty.receivers import paid  # noqa: F401

# isort: on
from huitou.loyalty.receivers import merge  # noqa: F401, E402
