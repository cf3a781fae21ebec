"""Test set-up shared by every app: fixtures live in ``huitou.testing``."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "huitou.testing.fixtures",
    "huitou.testing.browser",
    "huitou.analytics.tests.dataset",
    "huitou.analytics.tests.dashboard_dataset",
    "huitou.analytics.tests.rfm_dataset",
    "huitou.analytics.tests.staff_dataset",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Chromium; with HUITOU_BROWSER_TESTS=1 its absence is a failure."""
    from huitou.testing.browser import chromium_path

    if chromium_path() or os.environ.get("HUITOU_BROWSER_TESTS") == "1":
        return
    skip = pytest.mark.skip(
        reason="Chromium not installed (apt-get install chromium); HUITOU_BROWSER_TESTS=1 makes this a failure"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
