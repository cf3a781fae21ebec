from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "huitou.analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Folds a merged file's score into the kept one; registers the saved segment's export;
        # marks the days whose facts a change moves; registers the staff ranking's daily writer.
        from huitou.analytics import exports, receivers, receivers_facts, receivers_staff, staff_facts  # noqa: F401
