from django.urls import path

from huitou.loyalty.views import rewards

urlpatterns = [
    path("coupon-templates/", rewards.template_list, name="coupon_templates"),
    path("coupon-templates/new/", rewards.template_new, name="coupon_template_new"),
    path("coupon-templates/<int:template_id>/", rewards.template_edit, name="coupon_template_edit"),
    path("coupon-templates/<int:template_id>/rules/", rewards.rule_add, name="coupon_rule_add"),
    path("coupon-rules/<int:rule_id>/toggle/", rewards.rule_toggle, name="coupon_rule_toggle"),
    path("customers/<int:customer_id>/coupons/issue/", rewards.coupon_issue_page, name="coupon_issue"),
    path("points/year-end/", rewards.points_year_end_page, name="points_year_end"),
]
