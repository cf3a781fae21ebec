"""``huitou quickstart``: migrate, load the demo organization once, print the logins, serve.

A new user's first minute: on an empty data directory it migrates, builds
the demo (``huitou demo``'s default: a small organization written through
the services, every page with something to show) and serves. Static files
are collected by a second process while the database is built (the machine
has a second core; collectstatic needs no database), so ``serve`` starts
without collecting them again. ``bench/quickstart.py`` times it.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from huitou.demo.services import DEFAULT_CUSTOMERS, DEFAULT_SEED


class Command(BaseCommand):
    help = "Set up the database with demo data (first run only) and serve Huitou."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, help="demo customers on the first run")
        parser.add_argument("--no-serve", action="store_true", help="prepare only")

    def handle(self, *args: Any, host: str, port: int, customers: int, no_serve: bool, **options: Any) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        collecting = None
        if not no_serve and not settings.DEBUG:
            collecting = subprocess.Popen(  # noqa: S603 (our own command)
                [sys.executable, "-m", "huitou.cli", "collectstatic", "--noinput", "-v0"]
            )
        try:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write(f"Database ready ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}).")
            call_command("demo", customers=customers, seed=DEFAULT_SEED)
        finally:
            collected = collecting is not None and collecting.wait() == 0
        if not no_serve:
            call_command("serve", host=host, port=port, static_collected=collected)
