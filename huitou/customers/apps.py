from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "huitou.customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from huitou.customers.trigram import ensure_after_migrate

        post_migrate.connect(ensure_after_migrate, sender=self, dispatch_uid="customers_trigram_tables")
