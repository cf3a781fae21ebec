from django.urls import path

from huitou.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("shop/switch/", views.switch_shop, name="switch_shop"),
]
