from huitou.service.models.appointments import Appointment, OpeningHours
from huitou.service.models.catalog import Category, Part, ServiceItem, ShopPrice
from huitou.service.models.orders import (
    OrderAdjustment,
    OrderLine,
    OrderState,
    Payment,
    PaymentMethod,
    Recommendation,
    ServiceOrder,
)

__all__ = [
    "Appointment",
    "Category",
    "OpeningHours",
    "OrderAdjustment",
    "OrderLine",
    "OrderState",
    "Part",
    "Payment",
    "PaymentMethod",
    "Recommendation",
    "ServiceItem",
    "ServiceOrder",
    "ShopPrice",
]
