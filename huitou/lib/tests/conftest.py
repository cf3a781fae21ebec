from __future__ import annotations

from collections.abc import Iterator

import pytest

from huitou.lib.statements import forget_statements


@pytest.fixture(autouse=True)
def _fresh_statements() -> Iterator[None]:
    """Each test starts and ends with no kept statement (``huitou.lib.statements``) in its thread."""
    forget_statements()
    yield
    forget_statements()
