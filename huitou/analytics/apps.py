from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "huitou.analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from huitou.analytics import receivers  # noqa: F401 - folds a merged file's score into the kept one
