from django.urls import path

from huitou.exports import views

app_name = "exports"
# One route per list and format (``customers.xlsx``): the list pages link to them with their own query
# (the statement's page with its customer and ledger: ``statement.xlsx?customer=7&ledger=points``; a saved
# segment's page with its id: ``segment.xlsx?segment=3``).
urlpatterns = [
    path("", views.export_jobs, name="list"),
    path("<int:export_id>/download/", views.export_download, name="download"),
    *(
        path(f"{source}.{fmt}", views.export_list, {"source": source, "fmt": fmt}, name=f"{source}_{fmt}")
        for source in ("customers", "orders", "statement", "segment")
        for fmt in ("xlsx", "csv")
    ),
]
