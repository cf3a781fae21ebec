from django.urls import path

from huitou.care.views import questionnaire

app_name = "questionnaire"

# The callback questionnaire (客户意见卡) the store manager edits.
urlpatterns = [
    path("", questionnaire.questions, name="questions"),
    path("<int:question_id>/", questionnaire.question_edit, name="question_edit"),
]
