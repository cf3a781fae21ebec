from django.urls import path

from huitou.care.views import complaints

app_name = "complaints"

# The complaint board, one complaint and its steps, opening one from a customer's file, the deadlines.
urlpatterns = [
    path("", complaints.board, name="board"),
    path("new/", complaints.new, name="new"),
    path("deadlines/", complaints.deadlines, name="deadlines"),
    path("notices/read/", complaints.notices_read, name="notices_read"),
    path("<int:complaint_id>/", complaints.detail, name="detail"),
    path("<int:complaint_id>/steps/", complaints.step_add, name="step_add"),
    path("<int:complaint_id>/close/", complaints.close, name="close"),
    path("<int:complaint_id>/reopen/", complaints.reopen, name="reopen"),
]
