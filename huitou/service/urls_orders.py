from django.urls import path

from huitou.service.views import bills, catalog, lines, order_page, orders, payments, recommendations, warranty

urlpatterns = [
    path("orders/", orders.order_list, name="order_list"),
    path("orders/new/", orders.order_new, name="order_new"),
    path("orders/<int:order_id>/", order_page.order_detail, name="order_detail"),
    path("orders/<int:order_id>/bill/", bills.order_bill, name="order_bill"),
    path("orders/<int:order_id>/lines/", lines.line_add, name="order_line_add"),
    path("orders/<int:order_id>/lines/<int:line_id>/remove/", lines.line_remove, name="order_line_remove"),
    path("orders/<int:order_id>/lines/<int:line_id>/warranty/", warranty.line_warranty, name="order_line_warranty"),
    path("orders/<int:order_id>/start/", orders.order_start, name="order_start"),
    path("orders/<int:order_id>/complete/", orders.order_complete, name="order_complete"),
    path("orders/<int:order_id>/payments/", payments.order_pay, name="order_pay"),
    path("orders/<int:order_id>/void/", payments.order_void, name="order_void"),
    path("orders/<int:order_id>/adjustments/", payments.order_adjust, name="order_adjust"),
    path("orders/<int:order_id>/recommendations/", recommendations.recommendation_add, name="recommendation_add"),
    path(
        "orders/<int:order_id>/recommendations/<int:recommendation_id>/decide/",
        recommendations.recommendation_decide,
        name="recommendation_decide",
    ),
    path("catalog/", catalog.catalog_list, name="catalog_list"),
    path("catalog/services/new/", catalog.catalog_service_new, name="catalog_service_new"),
    path("catalog/services/<int:item_id>/", catalog.catalog_service_edit, name="catalog_service_edit"),
    path("catalog/parts/new/", catalog.catalog_part_new, name="catalog_part_new"),
    path("catalog/parts/<int:part_id>/", catalog.catalog_part_edit, name="catalog_part_edit"),
]
