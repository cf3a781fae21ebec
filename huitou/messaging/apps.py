from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "huitou.messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from huitou.messaging import privacy  # noqa: F401 - registers the personal data
