"""Membership pages under /loyalty/ (and the member panel parts of /customers/<id>/)."""

from django.urls import include, path

app_name = "loyalty"

urlpatterns = [
    path("", include("huitou.loyalty.urls_members")),
    path("", include("huitou.loyalty.urls_rewards")),
    path("", include("huitou.loyalty.urls_wallet")),
    path("", include("huitou.loyalty.urls_referrals")),
]
