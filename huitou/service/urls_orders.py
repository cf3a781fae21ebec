from django.urls import path

from huitou.service.views import catalog, orders

urlpatterns = [
    path("orders/", orders.order_list, name="order_list"),
    path("orders/new/", orders.order_new, name="order_new"),
    path("orders/<int:order_id>/", orders.order_detail, name="order_detail"),
    path("orders/<int:order_id>/bill/", orders.order_bill, name="order_bill"),
    path("orders/<int:order_id>/lines/", orders.line_add, name="order_line_add"),
    path("orders/<int:order_id>/lines/<int:line_id>/remove/", orders.line_remove, name="order_line_remove"),
    path("orders/<int:order_id>/start/", orders.order_start, name="order_start"),
    path("orders/<int:order_id>/complete/", orders.order_complete, name="order_complete"),
    path("orders/<int:order_id>/payments/", orders.order_pay, name="order_pay"),
    path("orders/<int:order_id>/void/", orders.order_void, name="order_void"),
    path("orders/<int:order_id>/adjustments/", orders.order_adjust, name="order_adjust"),
    path("orders/<int:order_id>/recommendations/", orders.recommendation_add, name="recommendation_add"),
    path(
        "orders/<int:order_id>/recommendations/<int:recommendation_id>/decide/",
        orders.recommendation_decide,
        name="recommendation_decide",
    ),
    path("catalog/", catalog.catalog_list, name="catalog_list"),
    path("catalog/services/new/", catalog.catalog_service_new, name="catalog_service_new"),
    path("catalog/services/<int:item_id>/", catalog.catalog_service_edit, name="catalog_service_edit"),
    path("catalog/parts/new/", catalog.catalog_part_new, name="catalog_part_new"),
    path("catalog/parts/<int:part_id>/", catalog.catalog_part_edit, name="catalog_part_edit"),
]
