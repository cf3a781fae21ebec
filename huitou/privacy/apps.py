from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "huitou.privacy"
    verbose_name = _("Personal data")

    def ready(self) -> None:
        from huitou.privacy import kinds, receivers  # noqa: F401 - registers the kinds, connects the receivers
