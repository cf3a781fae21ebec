from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "huitou.care"
    verbose_name = _("Care and callbacks")

    def ready(self) -> None:
        from huitou.care import privacy, receivers  # noqa: F401 - registers the personal data, connects the receivers
