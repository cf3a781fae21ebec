from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "huitou.web"
