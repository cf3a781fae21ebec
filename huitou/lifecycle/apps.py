from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "huitou.lifecycle"
    verbose_name = _("Lifecycle")

    def ready(self) -> None:
        from huitou.lifecycle import receivers  # noqa: F401 - connects the receivers
