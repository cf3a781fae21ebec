"""``huitou serve``: the production web server (waitress) and one huey worker.

waitress is pure Python and runs the same on Linux, macOS and the front-desk
Windows PC. At scale, run gunicorn workers behind nginx and ``huitou
run_huey`` consumers separately instead (see README, "Running at scale").
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Huitou with waitress and start one background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="do not start the huey consumer")

    def handle(self, *args: Any, host: str, port: int, threads: int, no_worker: bool, **options: Any) -> None:
        from waitress import serve

        from huitou.wsgi import application

        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        worker = None
        if not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "huitou.cli", "run_huey", "--quiet"])  # noqa: S603
            self.stdout.write(f"Background worker started (pid {worker.pid}).")
        self.stdout.write(self.style.SUCCESS(f"Huitou is serving on http://{host}:{port}/  (Ctrl+C to stop)"))
        try:
            serve(application, host=host, port=port, threads=threads, ident="huitou")
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
