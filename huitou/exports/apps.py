from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "huitou.exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from huitou.exports import privacy, sources  # noqa: F401 - registers the lists and the eraser
