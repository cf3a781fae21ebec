from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "huitou.loyalty"
    verbose_name = _("Membership and rewards")

    def ready(self) -> None:
        # Registers the personal data and the statement's export, connects the receivers.
        from huitou.loyalty import exports, privacy, receivers  # noqa: F401
