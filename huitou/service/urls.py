from huitou.service.urls_appointments import urlpatterns as appointment_patterns
from huitou.service.urls_orders import urlpatterns as order_patterns

app_name = "service"
urlpatterns = [*order_patterns, *appointment_patterns]
