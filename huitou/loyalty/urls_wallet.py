from django.urls import path

from huitou.loyalty.views import wallet

urlpatterns = [
    path("customers/<int:customer_id>/top-up/", wallet.top_up, name="top_up"),
    path("customers/<int:customer_id>/stored-value-refund/", wallet.card_refund, name="card_refund"),
    path("customers/<int:customer_id>/statement/", wallet.statement, name="statement"),
    path("card-products/", wallet.product_list, name="card_products"),
    path("card-products/new/", wallet.product_new, name="card_product_new"),
    path("card-products/<int:product_id>/", wallet.product_edit, name="card_product_edit"),
    path("orders/<int:order_id>/checkout/", wallet.checkout, name="checkout"),
]
