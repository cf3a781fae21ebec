from django.urls import path

from huitou.loyalty.views import referrals

urlpatterns = [
    path("referrals/", referrals.leaderboard, name="referral_leaderboard"),
    path("referral-policies/", referrals.policy_list, name="referral_policies"),
    path("referral-policies/new/", referrals.policy_new, name="referral_policy_new"),
    path("referral-policies/<int:policy_id>/", referrals.policy_edit, name="referral_policy_edit"),
    path("customers/<int:customer_id>/referrer-type/", referrals.referrer_type_edit, name="referrer_type"),
]
