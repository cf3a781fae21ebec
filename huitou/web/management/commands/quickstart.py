"""``huitou quickstart``: migrate, load the demo organization once, print the logins, serve."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Set up the database with demo data (first run only) and serve Huitou."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--customers", type=int, default=300, help="demo customers on the first run")
        parser.add_argument("--no-serve", action="store_true", help="prepare only")

    def handle(self, *args: Any, host: str, port: int, customers: int, no_serve: bool, **options: Any) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Database ready ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}).")
        call_command("demo", customers=customers, seed=1)
        if not no_serve:
            call_command("serve", host=host, port=port)
