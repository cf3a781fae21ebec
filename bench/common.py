"""What the benchmarks share: Django set up in production mode, percentiles, the machine's description."""

from __future__ import annotations

import os
import platform
import secrets
from pathlib import Path


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


def machine() -> str:
    """The machine a figure comes from: cores and CPU, memory, Python and the load average now."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} × {cpu}{memory}, Python {platform.python_version()}, load average {load}"
