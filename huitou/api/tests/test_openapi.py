"""The API describes itself at /api/v1/openapi.json."""

from __future__ import annotations

from django.test import Client


def test_openapi_lists_every_route_with_bearer_auth(db: object) -> None:
    r = Client().get("/api/v1/openapi.json")

    assert r.status_code == 200
    doc = r.json()
    routes = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert routes >= {
        ("GET", "/api/v1/customers"),
        ("POST", "/api/v1/customers"),
        ("GET", "/api/v1/customers/{customer_id}"),
        ("PATCH", "/api/v1/customers/{customer_id}"),
        ("DELETE", "/api/v1/customers/{customer_id}"),
        ("POST", "/api/v1/customers/{customer_id}/consents"),
        ("POST", "/api/v1/customers/{customer_id}/household"),
        ("DELETE", "/api/v1/customers/{customer_id}/household"),
        ("GET", "/api/v1/customers/{customer_id}/history"),
        ("GET", "/api/v1/customers/{customer_id}/vehicles"),
        ("POST", "/api/v1/customers/{customer_id}/vehicles"),
        ("GET", "/api/v1/vehicles/{vehicle_id}"),
        ("PATCH", "/api/v1/vehicles/{vehicle_id}"),
        ("DELETE", "/api/v1/vehicles/{vehicle_id}"),
        ("POST", "/api/v1/vehicles/{vehicle_id}/mileage"),
        ("POST", "/api/v1/vehicles/{vehicle_id}/transfer"),
        ("POST", "/api/v1/prospects"),
        ("GET", "/api/v1/prospects"),
        ("GET", "/api/v1/customers/{customer_id}/followups"),
        ("POST", "/api/v1/customers/{customer_id}/followups"),
        ("GET", "/api/v1/followups"),
        ("GET", "/api/v1/customers/{customer_id}/stage"),
        ("POST", "/api/v1/customers/{customer_id}/stage"),
        ("POST", "/api/v1/customers/merge"),
        ("POST", "/api/v1/staff/{staff_id}/reassign"),
    }
    assert any(s.get("scheme") == "bearer" for s in doc["components"]["securitySchemes"].values())
    list_params = {p["name"] for p in doc["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert list_params >= {"q", "stage", "tag", "grade", "page"}


def test_the_interactive_docs_are_served(db: object) -> None:
    assert Client().get("/api/v1/docs").status_code == 200


def test_the_docs_load_nothing_from_a_cdn(db: object) -> None:
    """Shops often sit on an intranet: Swagger UI comes from the install's static files."""
    page = Client().get("/api/v1/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.replace("https://swagger.io", "")
