from django.urls import path

from huitou.lifecycle.views import customer_panel, prospects

app_name = "lifecycle"

# Prospects and the lifecycle panel of the customer file.
urlpatterns = [
    path("prospects/", prospects.prospect_list, name="prospect_list"),
    path("prospects/new/", prospects.prospect_new, name="prospect_new"),
    path("prospects/referrers/", prospects.referrer_pick, name="referrer_pick"),
    path("customers/<int:customer_id>/stage/", customer_panel.stage_edit, name="stage_change"),
    path("customers/<int:customer_id>/followups/new/", customer_panel.followup_new, name="followup_new"),
]
