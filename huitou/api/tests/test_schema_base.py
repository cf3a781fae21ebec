"""The API's schema base validates a dict with pydantic alone and anything else as django-ninja does."""

from __future__ import annotations

from types import SimpleNamespace

import ninja.schema
import pytest
from pydantic import Field, ValidationError

from huitou.api.base import Schema
from huitou.api.schemas import CustomerPage


class Item(Schema):
    id: int
    to: str = Field(alias="from")
    tags: list[str] = []


class Page(Schema):
    items: list[Item]


def _no_getter(*args: object, **kwargs: object) -> None:
    raise AssertionError("a dict went through ninja's getter")


def test_a_dict_is_validated_without_the_getter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ninja.schema.DjangoGetter, "__init__", _no_getter)
    page = Page.model_validate({"items": [{"id": "3", "from": "a"}, {"id": 4, "from": "b", "tags": ["x"]}]})
    assert [(i.id, i.to, i.tags) for i in page.items] == [(3, "a", []), (4, "b", ["x"])]
    with pytest.raises(ValidationError) as refused:
        Page.model_validate({"items": [{"id": "three", "from": "a"}]})
    assert refused.value.errors()[0]["loc"] == ("items", 0, "id")
    assert issubclass(CustomerPage, Schema), "the customer list's answer is validated this way"


def test_an_object_is_still_read_through_its_attributes() -> None:
    item = Item.model_validate(SimpleNamespace(id=5, tags=["y"], **{"from": "c"}))
    assert (item.id, item.to, item.tags) == (5, "c", ["y"])
