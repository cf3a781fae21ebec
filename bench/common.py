"""What the benchmarks share: Django set up in production mode, and percentiles."""

from __future__ import annotations

import os
import secrets


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def setup_django(url: str) -> None:
    """Django with production settings on the database at ``url``: no query log in memory, as on a server."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "huitou.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    import django

    django.setup()
