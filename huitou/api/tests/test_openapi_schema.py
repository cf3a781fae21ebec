"""The OpenAPI document is valid, complete for generated clients, and states the rules the services apply."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from huitou.api.errors import NUL_REFUSED
from huitou.api.schemas import PLATE_PATTERN
from huitou.api.tests.conftest import ApiClient
from huitou.customers.models import Customer
from huitou.lib.plates import _PATTERNS as PLATE_RULES
from huitou.lib.plates import PlateError, normalize_plate
from huitou.lib.vin import VinFormatError, normalize_vin
from huitou.lifecycle.services.stages import MANUAL_STAGES
from huitou.tenancy.models import User

Make = Callable[..., Any]


@pytest.fixture
def api(advisor: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(advisor)


@pytest.fixture
def doc(db: object) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def _property(doc: dict[str, Any], schema: str, name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][schema]["properties"][name]


def _string_branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The string schema of a property that may also be null."""
    return next((p for p in prop.get("anyOf", []) if p.get("type") == "string"), prop)


def test_the_document_is_a_valid_openapi_document(doc: dict[str, Any]) -> None:
    validate(doc)


def test_a_client_generated_from_the_document_has_every_operation(doc: dict[str, Any], tmp_path: Path) -> None:
    """openapi-python-client skips an operation whose schema it cannot read (e.g. a default outside its enum)."""
    (tmp_path / "openapi.json").write_text(json.dumps(doc))
    (tmp_path / "config.json").write_text(json.dumps({"post_hooks": []}))
    generator = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--output-path", "client", "--meta", "none"]
        + ["--config", "config.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr

    operations = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
    generated = {p.stem for p in (tmp_path / "client" / "api").glob("*/*.py") if p.stem != "__init__"}
    assert len(operations) == sum(len(ops) for ops in doc["paths"].values()) >= 57
    assert operations - generated == set(), run.stdout
    assert "Unable to parse" not in run.stdout + run.stderr


def test_every_path_id_is_bounded_like_the_ids_in_bodies(doc: dict[str, Any]) -> None:
    unbounded = [
        (path, p["name"])
        for path, ops in doc["paths"].items()
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["in"] == "path" and (p["schema"].get("minimum"), p["schema"].get("maximum")) != (1, 2**63 - 1)
    ]
    assert unbounded == []


def test_a_path_id_beyond_64_bits_is_not_found_not_a_server_error(api: ApiClient) -> None:
    huge = 2**64
    for path in (
        f"/api/v1/orders/{huge}/recommendations/1/accept",
        f"/api/v1/orders/1/recommendations/{huge}/decline",
        f"/api/v1/customers/{huge}/stage",
    ):
        r = api.post_json(path, {})
        assert r.status_code == 404, (path, r.content)


def test_choice_fields_have_no_default_outside_their_values(doc: dict[str, Any]) -> None:
    bad = [
        (name, prop_name)
        for name, schema in doc["components"]["schemas"].items()
        for prop_name, prop in schema.get("properties", {}).items()
        if "enum" in prop and "default" in prop and prop["default"] not in prop["enum"]
    ]
    assert bad == []


def test_the_manual_stage_is_one_of_the_stages_set_by_hand(doc: dict[str, Any]) -> None:
    stage = _property(doc, "StageIn", "stage")
    assert set(stage["enum"]) == {str(s) for s in MANUAL_STAGES}
    assert {"stage", "reason"} <= set(doc["components"]["schemas"]["StageIn"]["required"])
    assert "channel" in doc["components"]["schemas"]["FollowUpIn"]["required"]


def test_the_prospect_refusal_names_duplicates_only_when_there_are_some(api: ApiClient, doc: dict[str, Any]) -> None:
    assert "duplicates" not in doc["components"]["schemas"]["DuplicatesRefused"]["required"]

    r = api.generic("POST", "/api/v1/prospects", "", content_type="application/json")

    assert r.status_code == 422 and "errors" in r.json()


def test_a_task_names_its_customer_with_the_phone_as_the_caller_may_see_it(make_customer: Make, api: ApiClient) -> None:
    """The reference declares the phone: full for those who may see it, masked (138****5678) for the others."""
    customer = make_customer(name="张三", phone="13812345678")

    task = api.get("/api/v1/followups").json()["items"][0]

    assert task["customer"] == {"id": customer.pk, "name": "张三", "phone": customer.phone_display}


# --- the patterns say what the services take ---------------------------------------------------

PLATES = [
    "粤B12345",
    "京A8K2F9",
    "沪C0A1B2",
    "粤BD12345",
    "粤B12345F",
    "粤B1234学",
    "沪A1234领",
    "使224009",
    "粤ZF023港",
]
NOT_PLATES = ["", "粤B1234", "B12345", "粤BI2345", "粤B123456", "AB12345", "粤B12345X", "粤B1234领领", "云A0000港"]


@pytest.mark.parametrize("plate", PLATES)
@pytest.mark.parametrize("typed", [str, str.lower, lambda p: " ".join(p), lambda p: f"{p[:2]}·{p[2:]}"])
def test_the_plate_pattern_takes_every_plate_as_typed(plate: str, typed: Callable[[str], str]) -> None:
    assert re.search(PLATE_PATTERN, typed(plate))


@pytest.mark.parametrize("text", NOT_PLATES)
def test_the_plate_pattern_refuses_what_is_not_a_plate(text: str) -> None:
    assert not _plate_ok(text)
    assert not re.search(PLATE_PATTERN, text)


def _plate_ok(text: str) -> bool:
    try:
        normalize_plate(text)
    except PlateError:
        return False
    return True


@given(st.from_regex(PLATE_PATTERN, fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_whatever_the_plate_pattern_takes_is_a_plate_for_lib_plates(text: str) -> None:
    assert _plate_ok(text)


@given(
    st.sampled_from(PLATE_RULES).flatmap(lambda rule: st.from_regex(rule, fullmatch=True)),
    st.lists(st.sampled_from([" ", ".", "·", "-"]), max_size=3),
    st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_every_plate_lib_plates_takes_matches_the_plate_pattern(plate: str, separators: list[str], lower: bool) -> None:
    typed = plate.lower() if lower else plate
    for i, sep in enumerate(separators):
        cut = min(2 + i * 2, len(typed))
        typed = typed[:cut] + sep + typed[cut:]
    assert re.search(PLATE_PATTERN, typed), typed


def test_the_vin_pattern_takes_what_lib_vin_takes(doc: dict[str, Any]) -> None:
    pattern = _string_branch(_property(doc, "VehiclePatch", "vin"))["pattern"]
    for text in ["LSVAU2180N2183294", "lsvau2180n2183294", " LSVAU 2180N 2183294 ", "", "  "]:
        if text.strip():
            normalize_vin(text)
        assert re.search(pattern, text), text
    for text in ["LSVAU2180N218329", "LSVAU2180N21832944", "LSVAU2180N218329O"]:
        with pytest.raises(VinFormatError):
            normalize_vin(text)
        assert not re.search(pattern, text), text


def test_the_name_pattern_bounds_the_trimmed_length_as_the_service_does(
    api: ApiClient, doc: dict[str, Any], org: object
) -> None:
    pattern = _property(doc, "CustomerIn", "name")["pattern"]
    cases = {"王" * 50: True, f"  {'王' * 50}  ": True, "王" * 51: False, "   ": False, "": False, " 王 ": True}
    for name, taken in cases.items():
        assert bool(re.search(pattern, name)) is taken, name
        r = api.post_json("/api/v1/customers", {"name": name, "phone": ""})
        assert (r.status_code == 201) is taken, (name, r.content)
    assert Customer.objects.for_org(org).count() == 3  # type: ignore[arg-type]


def test_numbers_state_the_ranges_the_services_check(doc: dict[str, Any]) -> None:
    km = _property(doc, "MileageIn", "km")
    day = _property(doc, "PlanStepIO", "day_offset")
    year = _property(doc, "VehiclePatch", "year")

    assert (km["minimum"], km["maximum"]) == (0, 5_000_000)
    assert (day["minimum"], day["maximum"]) == (0, 365)
    assert year["minimum"] == 1950


# --- what schemathesis found on PostgreSQL ------------------------------------------------------


def test_text_with_a_nul_character_is_refused_not_a_server_error(api: ApiClient, org: object) -> None:
    body = api.post_json("/api/v1/customers", {"name": "王\x00五", "phone": "13812345678"})
    nested = api.post_json("/api/v1/customers", {"name": "王五", "tags": ["vip\x00"]})
    query = api.get("/api/v1/customers", {"q": "王\x00"})

    assert (body.status_code, nested.status_code, query.status_code) == (422, 422, 422)
    assert body.json()["errors"] == {"__all__": [str(NUL_REFUSED)]}
    assert not Customer.objects.for_org(org).exists()  # type: ignore[arg-type]


def test_a_reading_with_any_offset_json_allows_is_taken_as_its_moment_in_utc(
    api: ApiClient, make_customer: Make, make_vehicle: Make
) -> None:
    """PostgreSQL takes offsets up to ±15:59; JSON dates may carry up to ±23:59."""
    vehicle = make_vehicle(make_customer())

    r = api.post_json(f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 1200, "read_at": "2026-01-01T10:00:00-16:45"})
    too_early = api.post_json(
        f"/api/v1/vehicles/{vehicle.pk}/mileage", {"km": 1300, "read_at": "0001-01-01T00:00+16:45"}
    )

    assert r.status_code == 201, r.content
    read_at = dt.datetime.fromisoformat(r.json()["read_at"])
    assert read_at == dt.datetime(2026, 1, 2, 2, 45, tzinfo=dt.UTC)
    assert too_early.status_code == 422
