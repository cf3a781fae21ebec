"""The base of every API schema: django-ninja's ``Schema``, with dicts validated by pydantic itself.

ninja wraps whatever it validates in a ``DjangoGetter`` so that a schema can
read a model instance's attributes, call its methods and list its related
managers. The API's routes build their answers as dicts (``customer_out``
and the like) and ninja hands query strings and bodies over as dicts too;
through the getter each field of each item was a Python attribute lookup
(a page of 20 customers: some 800 of them, about 2 ms). A dict goes to
pydantic's validator directly instead; anything else still goes through
ninja's getter, so a schema filled from a model keeps working.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema as NinjaSchema
from pydantic import ModelWrapValidatorHandler, ValidationInfo, model_validator


class Schema(NinjaSchema):
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        if type(values) is dict:
            return handler(values)
        return super()._run_root_validator(values, handler, info)  # type: ignore[operator]
