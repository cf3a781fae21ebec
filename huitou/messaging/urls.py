"""Messaging pages under /messages/."""

from django.urls import path

from huitou.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.outbox_list, name="outbox"),
    path("<int:message_id>/sent/", views.mark_sent, name="mark_sent"),
    path("customers/<int:customer_id>/send/", views.send_page, name="send"),
    path("preview/", views.preview, name="preview"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:message_template_id>/", views.template_edit, name="template_edit"),
    path("settings/", views.settings_page, name="settings"),
    path("bulk/", views.bulk_new, name="bulk_new"),
    path("bulk/<int:bulk_id>/", views.bulk_detail, name="bulk_detail"),
    path("bulk/<int:bulk_id>/progress/", views.bulk_progress, name="bulk_progress"),
]
