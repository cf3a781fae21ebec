from django.urls import path

from huitou.lifecycle.views import merge, plans, work

app_name = "followups"

# Work lists, plans, merging, reassignment.
urlpatterns = [
    path("", work.followups_mine, name="mine"),
    path("team/", work.followups_team, name="team"),
    path("plans/", plans.plan_list, name="plans"),
    path("plans/new/", plans.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/", plans.plan_edit, name="plan_edit"),
    path("merge/", merge.merge_pick, name="merge"),
    path("merge/confirm/", merge.merge_confirm, name="merge_confirm"),
    path("staff/rotation/", work.rotation_edit, name="rotation"),
    path("staff/<int:user_id>/deactivate/", work.staff_deactivate_page, name="staff_deactivate"),
    path("staff/<int:user_id>/reassign/", work.staff_reassign_page, name="staff_reassign"),
]
