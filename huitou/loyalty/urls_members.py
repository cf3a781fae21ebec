from django.urls import path

from huitou.loyalty.views import members

urlpatterns = [
    path("", members.home, name="home"),
    path("settings/", members.program_edit, name="program"),
    path("tiers/", members.tier_list, name="tiers"),
    path("tiers/new/", members.tier_new, name="tier_new"),
    path("tiers/<int:tier_id>/", members.tier_edit, name="tier_edit"),
    path("customers/<int:customer_id>/membership/", members.membership_set, name="membership_set"),
]
