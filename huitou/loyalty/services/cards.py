"""Package cards (次卡/套餐卡): products, cards issued when their sale is paid, uses, give-backs, expiry.

A card's ``uses_left`` is the sum of its ledger (``PackageCardEntry``), changed
only here with the card row under ``select_for_update``. Lock order: the order
row (the order services lock it), then the card row.

A product is sold as a line of its ``sale_item`` (a service item made with the
product), so the sale is revenue on the day the order is paid; the card is
issued then, bound to the order's car or to the customer. A use adds a line of
a covered service priced 0.00 with "套餐卡抵扣 · <card>" printed on the bill; the
use is given back when that line is removed or the open order is voided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huitou.lib.money import MoneyError, parse_money
from huitou.loyalty import errors
from huitou.loyalty.models import CardBinding, CardProduct, PackageCard, PackageCardEntry
from huitou.service import errors as order_errors
from huitou.service.errors import StateConflict
from huitou.service.models import Category, OrderLine, OrderState, ServiceItem, ServiceOrder
from huitou.service.services.orders import EDITABLE, order_add_line, order_remove_line
from huitou.tenancy.models import Organization, User

# The note on a line a card pays for, printed on the bill (the shop's language: it is part of the bill).
COVERED_NOTE = "套餐卡抵扣 · {card}"
SALE_ITEM_PREFIX = "CARD-"
MAX_USES = 1000
MAX_DAYS = 3650
EXPIRY_BATCH = 500


# --- products -----------------------------------------------------------------------------------


def _whole(value: Any, low: int, high: int) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def card_product_save(
    *, organization: Organization, data: Mapping[str, Any], product: CardProduct | None = None
) -> CardProduct:
    """Create or change a card product; ``data`` holds the fields to set (``services``: service item ids).

    The product's ``sale_item`` (code ``CARD-<CODE>``) is made with it and follows
    its name, price and being in use; cards already sold keep their uses and expiry.
    """
    product = product or CardProduct(organization=organization)
    problems: dict[str, list[Any]] = {}
    for field in ("code", "name"):
        if field in data:
            setattr(product, field, str(data[field] or "").strip())
    if not product.code:
        problems["code"] = [errors.PRODUCT_CODE_REQUIRED]
    else:
        try:
            CardProduct._meta.get_field("code").clean(product.code, product)
        except ValidationError:
            problems["code"] = [errors.PRODUCT_CODE_REQUIRED]
        else:
            taken = CardProduct.objects.for_org(organization).filter(code=product.code).exclude(pk=product.pk)
            if taken.exists():
                problems["code"] = [errors.PRODUCT_CODE_TAKEN]
    if not product.name or len(product.name) > 60:
        problems["name"] = [errors.PRODUCT_NAME_REQUIRED]
    if "price" in data or product.pk is None:
        try:
            product.price = parse_money(data.get("price"))
            if product.price < 0:
                raise MoneyError(data.get("price"))
        except MoneyError:
            problems["price"] = [errors.PRODUCT_PRICE_INVALID]
    if "uses" in data or product.pk is None:
        uses = _whole(data.get("uses"), 1, MAX_USES)
        if uses is None:
            problems["uses"] = [errors.PRODUCT_USES_INVALID]
        else:
            product.uses = uses
    if "validity_days" in data:
        days = _whole(data["validity_days"], 1, MAX_DAYS)
        if days is None:
            problems["validity_days"] = [errors.PRODUCT_DAYS_INVALID]
        else:
            product.validity_days = days
    if "binding" in data:
        if data["binding"] not in CardBinding.values:
            problems["binding"] = [errors.PRODUCT_BINDING_INVALID]
        else:
            product.binding = data["binding"]
    if "is_active" in data and data["is_active"] is not None:
        product.is_active = bool(data["is_active"])
    covered: list[ServiceItem] | None = None
    if "services" in data or product.pk is None:
        ids = {int(i) for i in (data.get("services") or []) if str(i).isdigit()}
        covered = list(
            ServiceItem.objects.for_org(organization)
            .filter(pk__in=ids, is_active=True)
            .exclude(code__startswith=SALE_ITEM_PREFIX)
        )
        if not ids or len(covered) != len(ids):
            problems["services"] = [errors.PRODUCT_SERVICES_REQUIRED]
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        product.sale_item = _sale_item(organization, product, covered)
        product.save()
        if covered is not None:
            product.services.set(covered)
    return product


def _sale_item(organization: Organization, product: CardProduct, covered: list[ServiceItem] | None) -> ServiceItem:
    """The service item the card is sold as: made with the product, then kept in step with it."""
    item = product.sale_item
    if item is None:
        code = f"{SALE_ITEM_PREFIX}{product.code.upper()}"[:30]
        item = ServiceItem.objects.for_org(organization).filter(code=code).first() or ServiceItem(
            organization=organization, code=code
        )
    category = covered[0].category if covered else (item.category or Category.DETAILING)
    item.category = category
    item.name = product.name
    item.labour_price = product.price
    item.is_active = product.is_active
    item.save()
    return item


# --- issuing on payment -------------------------------------------------------------------------


def _entry(card: PackageCard, *, kind: str, amount: int, by: User | None, at: dt.datetime, **links: Any) -> None:
    card.uses_left += amount
    PackageCardEntry.objects.create(
        organization_id=card.organization_id,
        card=card,
        customer_id=card.customer_id,
        kind=kind,
        amount=amount,
        uses_after=card.uses_left,
        by=by,
        at=at,
        **links,
    )


def cards_issue_for_order(*, order: ServiceOrder, by: User | None) -> list[PackageCard]:
    """On ``order_paid``: a card for each whole unit of each line of a product's sale item.

    Bound to the order's car (a vehicle card) or to the customer; valid from the
    day paid. Run twice for one order, it issues nothing more.
    """
    org_id = order.organization_id
    lines = list(OrderLine.objects.for_org(org_id).filter(order=order, kind=OrderLine.Kind.SERVICE, note=""))
    if not lines:
        return []
    products = {
        p.sale_item_id: p
        for p in CardProduct.objects.for_org(org_id).filter(sale_item_id__in={line.service_id for line in lines})
    }
    if not products:
        return []
    done = set(PackageCard.objects.for_org(org_id).filter(sold_order=order).values_list("sold_line_id", flat=True))
    at = order.paid_at or timezone.now()
    issued: list[PackageCard] = []
    for line in lines:
        product = products.get(line.service_id)
        if product is None or line.pk in done:
            continue
        for _unit in range(int(line.quantity)):
            card = PackageCard.objects.create(
                organization_id=org_id,
                customer_id=order.customer_id,
                vehicle_id=order.vehicle_id if product.binding == CardBinding.VEHICLE else None,
                product=product,
                name=product.name,
                uses_total=product.uses,
                uses_left=0,
                sold_order=order,
                sold_line_id=line.pk,
                sold_at=at,
                expires_on=timezone.localdate(at) + dt.timedelta(days=product.validity_days),
            )
            _entry(card, kind=PackageCardEntry.Kind.SALE, amount=product.uses, order=order, by=by, at=at)
            card.save(update_fields=["uses_left"])
            issued.append(card)
    return issued


# --- uses -------------------------------------------------------------------------------------


def _locked_order(order: ServiceOrder) -> None:
    fresh = ServiceOrder.objects.for_org(order.organization_id).select_for_update().get(pk=order.pk)
    for field in ServiceOrder._meta.concrete_fields:
        setattr(order, field.attname, getattr(fresh, field.attname))


def card_usable_for(*, card: PackageCard, order: ServiceOrder, today: dt.date) -> Any | None:
    """Why ``card`` cannot pay a line of ``order`` now (a message), or None.

    A vehicle card pays for its car's orders (whoever owns the car now); a
    customer card for any order of its customer.
    """
    if card.organization_id != order.organization_id:
        return errors.CARD_UNKNOWN
    if card.vehicle_id is not None:
        if card.vehicle_id != order.vehicle_id:
            return errors.CARD_OTHER_VEHICLE % {"plate": card.vehicle.plate if card.vehicle else ""}
    elif card.customer_id != order.customer_id:
        return errors.CARD_NOT_THEIRS
    if card.state not in (PackageCard.State.ACTIVE, PackageCard.State.USED_UP):
        return errors.CARD_NOT_ACTIVE % {"state": card.get_state_display()}
    if card.expires_on < today:
        return errors.CARD_EXPIRED % {"date": card.expires_on}
    if card.uses_left <= 0:
        return errors.CARD_NO_USES_LEFT
    return None


def card_use(
    *,
    order: ServiceOrder,
    card: PackageCard,
    service: ServiceItem,
    by: User,
    replaces: OrderLine | None = None,
    technician: User | None = None,
    now: dt.datetime | None = None,
) -> OrderLine:
    """One use of ``card`` pays a line of ``service`` on ``order``: a line priced 0.00, "套餐卡抵扣" on the bill.

    ``replaces``: a priced line of that service the card pays instead (removed in
    the same transaction). The line's technician is ``technician``, else the
    replaced line's. The card is locked after the order, so two counters
    taking its last use at once: one wins, the other gets ``StateConflict``.
    """
    now = now or timezone.now()
    if service.organization_id != order.organization_id:
        raise ValidationError({"service_id": [errors.CARD_SERVICE_NOT_COVERED % {"service": ""}]})
    if replaces is not None and (
        replaces.order_id != order.pk
        or replaces.kind != OrderLine.Kind.SERVICE
        or replaces.service_id != service.pk
        or replaces.quantity != 1
        or replaces.note
    ):
        raise ValidationError({"line_id": [errors.CARD_LINE_NOT_COVERABLE]})
    covers = set(card.product.services.values_list("pk", flat=True))
    if service.pk not in covers:
        raise ValidationError({"service_id": [errors.CARD_SERVICE_NOT_COVERED % {"service": service.name}]})
    with transaction.atomic():
        _locked_order(order)
        if order.state not in EDITABLE:
            raise StateConflict(order_errors.ORDER_LOCKED)
        locked = (
            PackageCard.objects.for_org(order.organization_id)
            .select_for_update(of=("self",))
            .select_related("vehicle")
            .get(pk=card.pk)
        )
        refusal = card_usable_for(card=locked, order=order, today=timezone.localdate(now))
        if refusal is not None:
            raise StateConflict(refusal)
        if technician is None and replaces is not None:
            technician = replaces.technician
        if replaces is not None:
            order_remove_line(line=replaces, by=by)
        line = order_add_line(
            order=order,
            by=by,
            service=service,
            technician=technician,
            covered=COVERED_NOTE.format(card=locked.name),
            now=now,
        )
        _entry(
            locked,
            kind=PackageCardEntry.Kind.USE,
            amount=-1,
            order=order,
            line_id=line.pk,
            reason=order.number,
            by=by,
            at=now,
        )
        if locked.uses_left == 0:
            locked.state = PackageCard.State.USED_UP
        locked.save(update_fields=["uses_left", "state"])
        card.uses_left, card.state = locked.uses_left, locked.state
    return line


def _give_back(uses: Iterable[PackageCardEntry], *, reason: str, by: User | None, now: dt.datetime) -> int:
    """A RETURN entry for each use (and an EXPIRE right after, for a card that expired meanwhile)."""
    given = 0
    for use in uses:
        card = PackageCard.objects.for_org(use.organization_id).select_for_update().get(pk=use.card_id)
        _entry(card, kind=PackageCardEntry.Kind.RETURN, amount=1, reverses=use, order_id=use.order_id,
               line_id=use.line_id, reason=reason, by=by, at=now)  # fmt: skip
        if card.state == PackageCard.State.EXPIRED or card.expires_on < timezone.localdate(now):
            _entry(card, kind=PackageCardEntry.Kind.EXPIRE, amount=-card.uses_left, reason=reason, by=by, at=now)
            card.state = PackageCard.State.EXPIRED
        elif card.state == PackageCard.State.USED_UP:
            card.state = PackageCard.State.ACTIVE
        card.save(update_fields=["uses_left", "state"])
        given += 1
    return given


def _open_uses(order: ServiceOrder, line_ids: Iterable[int] | None = None) -> list[PackageCardEntry]:
    """The uses on ``order`` (of those lines) not given back yet."""
    uses = PackageCardEntry.objects.for_org(order.organization_id).filter(
        order=order, kind=PackageCardEntry.Kind.USE, reversals__isnull=True
    )
    if line_ids is not None:
        uses = uses.filter(line_id__in=list(line_ids))
    return list(uses.order_by("card_id", "pk"))  # cards locked in one order: no deadlock between two voids


def card_uses_return_for_line(*, order: ServiceOrder, line: OrderLine, by: User | None) -> int:
    """On ``order_line_removed``: the use that paid the line comes back to its card."""
    if not line.note.startswith(COVERED_NOTE.split("{", 1)[0].strip()):
        return 0
    return _give_back(_open_uses(order, [line.pk]), reason=order.number, by=by, now=timezone.now())


def card_uses_return_for_order(*, order: ServiceOrder, by: User | None, reason: str = "") -> int:
    """On ``order_voided``: every use on the order comes back to its card."""
    now = order.voided_at or timezone.now()
    return _give_back(_open_uses(order), reason=f"{order.number} {reason}".strip(), by=by, now=now)


def cards_revoke_for_order(*, order: ServiceOrder, by: User | None, now: dt.datetime | None = None) -> int:
    """On ``order_adjusted`` to a total of 0: cards sold on the order and never used are revoked."""
    if order.state != OrderState.PAID or order.total != 0:
        return 0
    now = now or timezone.now()
    revoked = 0
    cards = PackageCard.objects.for_org(order.organization_id).select_for_update().filter(sold_order=order)
    for card in cards.order_by("pk"):
        if card.state != PackageCard.State.ACTIVE or card.uses_left != card.uses_total:
            continue
        _entry(card, kind=PackageCardEntry.Kind.REVOKE, amount=-card.uses_left, order=order, reason=order.number,
               by=by, at=now)  # fmt: skip
        card.state = PackageCard.State.REVOKED
        card.save(update_fields=["uses_left", "state"])
        revoked += 1
    return revoked


# --- expiry -------------------------------------------------------------------------------------


def cards_expire(*, organization: Organization | int, today: dt.date | None = None) -> int:
    """Cards past their last day lose their uses left (an EXPIRE entry each); safe to run twice."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                PackageCard.objects.for_org(organization)
                .select_for_update(skip_locked=True)
                .filter(state__in=[PackageCard.State.ACTIVE, PackageCard.State.USED_UP], expires_on__lt=today)
                .order_by("pk")[:EXPIRY_BATCH]
            )
            if not batch:
                return expired
            for card in batch:
                if card.uses_left:
                    _entry(card, kind=PackageCardEntry.Kind.EXPIRE, amount=-card.uses_left, at=now, by=None,
                           reason=str(card.expires_on))  # fmt: skip
                card.state = PackageCard.State.EXPIRED
            PackageCard.objects.for_org(organization).bulk_update(batch, ["uses_left", "state"])
            expired += len(batch)
