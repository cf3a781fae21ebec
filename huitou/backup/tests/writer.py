"""A shop at work, for the backup-while-writing test: run as ``python -m huitou.backup.tests.writer STOP``.

Writes through the product's services until the file STOP exists, each round
one transaction: a new customer (named 并发写入N) with a car and an order
for it that is completed and paid. Prints the number of rounds committed
after each one. A consistent backup holds, for every such customer, their
order, paid in full, its total the sum of its lines.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NAME_PREFIX = "并发写入"


def main(stop: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huitou.settings")
    import django

    django.setup()
    from django.db import transaction

    from huitou.customers.services import customer_create, vehicle_create
    from huitou.service.models import PaymentMethod, ServiceItem
    from huitou.service.services.orders import order_add_line, order_complete, order_open, order_pay
    from huitou.tenancy.models import Organization, Shop, User

    organization = Organization.objects.order_by("pk").first()
    assert organization is not None
    advisor = User.objects.filter(organization=organization, username="advisor").get()
    shop = Shop.objects.for_org(organization).order_by("pk").first()
    item = ServiceItem.objects.for_org(organization).order_by("pk").first()
    assert shop is not None and item is not None
    rounds = 0
    print("ready", flush=True)
    while not stop.exists():
        with transaction.atomic():
            customer = customer_create(
                organization=organization,
                by=advisor,
                data={"name": f"{NAME_PREFIX}{rounds}", "phone": f"1370{rounds:07d}"},
            )
            vehicle = vehicle_create(customer=customer, by=advisor, data={"plate": f"粤Z{rounds:05d}"})
            order = order_open(organization=organization, shop=shop, vehicle=vehicle, by=advisor)
            order_add_line(order=order, by=advisor, service=item, quantity=rounds % 3 + 1)
            order = order_complete(order=order, by=advisor)
            order_pay(order=order, by=advisor, method=PaymentMethod.CASH, amount=order.total)
        rounds += 1
        print(rounds, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
