from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "huitou.loyalty"
    verbose_name = _("Membership and rewards")

    def ready(self) -> None:
        from huitou.loyalty import privacy, receivers  # noqa: F401 - registers the personal data, connects the receivers
