"""``huitou createorg``: a new organization (a shop or a chain) with its first store manager."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from huitou.care.services.questionnaire import questionnaire_seed
from huitou.loyalty.starter import loyalty_seed
from huitou.messaging.starter import messaging_seed
from huitou.service.starter import catalog_seed, opening_hours_seed
from huitou.tenancy.models import Shop
from huitou.tenancy.roles import Role
from huitou.tenancy.services import organization_create, staff_create


class Command(BaseCommand):
    help = "Create an organization, its shops and its first store manager."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="organization name, e.g. 顺达汽修")
        parser.add_argument("--shop", action="append", dest="shops", help="a shop name (repeat for a chain)")
        parser.add_argument("--owner", required=True, help="username of the store manager")
        parser.add_argument("--owner-name", default="", help="display name, e.g. 王店长")
        parser.add_argument("--password", help="the manager's password (asked for when omitted)")
        parser.add_argument(
            "--no-starter",
            action="store_true",
            help="skip the starter catalog, opening hours, membership and callback questionnaire (edit them later)",
        )

    def handle(self, *args: Any, name: str, shops: list[str] | None, owner: str, **options: Any) -> None:
        password = options["password"] or getpass.getpass(f"Password for {owner}: ")
        try:
            with transaction.atomic():
                organization = organization_create(name=name, shop_names=shops or [name])
                staff_create(
                    organization=organization,
                    username=owner,
                    password=password,
                    role=Role.OWNER,
                    display_name=options["owner_name"],
                    shops=list(Shop.objects.for_org(organization)),
                )
                if not options["no_starter"]:
                    catalog_seed(organization=organization)
                    loyalty_seed(organization=organization)
                    messaging_seed(organization=organization)
                    questionnaire_seed(organization=organization)
                    for shop in Shop.objects.for_org(organization):
                        opening_hours_seed(shop=shop)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(self.style.SUCCESS(f"Organization {name} created; sign in as {owner}."))
