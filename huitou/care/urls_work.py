from django.urls import path

from huitou.care.views import rules, work

app_name = "care"

# The care work lists, one task, late tasks by staff, the rules.
urlpatterns = [
    path("", work.care_mine, name="mine"),
    path("team/", work.care_team, name="team"),
    path("tasks/<int:task_id>/", work.task_detail, name="task"),
    path("tasks/<int:task_id>/done/", work.task_done, name="task_done"),
    path("tasks/<int:task_id>/skip/", work.task_skip, name="task_skip"),
    path("rules/", rules.care_rules, name="rules"),
]
