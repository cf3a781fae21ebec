"""``huitou serve``: the production web server (waitress) and one huey worker.

waitress is pure Python and runs the same on Linux, macOS and the front-desk
Windows PC. At scale, run gunicorn workers behind nginx and ``huitou
run_huey`` consumers separately instead (see README, "Running at scale").

The worker stops with the server: on SIGTERM (systemd, Docker), SIGINT
(Ctrl+C), Ctrl+Break on Windows, and, through its stdin pipe, even when the
server is killed outright.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from huitou.cli import STOP_WITH_PARENT
from huitou.lib.sqlite import planner_stats_refresh

# waitress's own default is 100: 32 counters whose browsers keep three or four connections each pass it,
# and a connection past the limit waits, unanswered, until another one closes (tens of seconds).
# Kept under the 512 sockets select() watches on Windows, and under half the files a process may open
# (macOS allows 256 by default), so the server still opens its database and files at the limit.
CONNECTION_LIMIT = 400


def connection_limit_default() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return CONNECTION_LIMIT
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return CONNECTION_LIMIT if soft == resource.RLIM_INFINITY else max(16, min(CONNECTION_LIMIT, soft // 2))


class Command(BaseCommand):
    help = "Serve Huitou with waitress and start one background worker."

    def add_arguments(self, parser: Any) -> None:
        # huitou/cli.py reads --host too, before the settings: ALLOWED_HOSTS follows it.
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--connection-limit",
            type=int,
            default=connection_limit_default(),
            help="open connections at most (each browser keeps a few; past this, new ones wait)",
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start the huey consumer")
        parser.add_argument(
            "--static-collected", action="store_true", help="skip collectstatic (quickstart collected them already)"
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        threads: int,
        connection_limit: int,
        no_worker: bool,
        **options: Any,
    ) -> None:
        from waitress import serve

        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        if settings.DEBUG:
            self.stderr.write("DEBUG is on: error pages show code and settings to anyone who can reach this server.")
        elif not options.get("static_collected"):
            call_command("collectstatic", interactive=False, verbosity=0)
        from huitou.wsgi import application  # after collectstatic: WhiteNoise lists the files once

        planner_stats_refresh()

        worker: subprocess.Popen[bytes] | None = None
        _stop_on_termination_signals()
        try:
            if not no_worker:
                worker = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "huitou.cli", "run_huey", "--quiet"],
                    stdin=subprocess.PIPE,
                    env={**os.environ, STOP_WITH_PARENT: "1"},
                )
                atexit.register(_stop_worker, worker)
                self.stdout.write(f"Background worker started (pid {worker.pid}).")
            self.stdout.write(self.style.SUCCESS(f"Huitou is serving on http://{host}:{port}/  (Ctrl+C to stop)"))
            if host not in {"127.0.0.1", "localhost", "::1"}:
                names = ", ".join(settings.ALLOWED_HOSTS)
                self.stdout.write(f"It answers to: {names} (add others with ALLOWED_HOSTS).")
            serve(
                application,
                host=host,
                port=port,
                threads=threads,
                connection_limit=connection_limit,
                ident="huitou",
            )
        except KeyboardInterrupt:
            pass  # a signal before waitress was listening
        finally:
            if worker is not None:
                _stop_worker(worker)
        self.stdout.write("Huitou has stopped.")


def _stop_on_termination_signals() -> None:
    """SIGTERM, SIGINT and Ctrl+Break end waitress's loop the way Ctrl+C does.

    SIGINT is set too: a process started in the background by a shell without job control
    (a service script, ``nohup ... &``) inherits SIGINT ignored, and Python then leaves it so.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    if hasattr(signal, "SIGBREAK"):  # Windows
        signal.signal(signal.SIGBREAK, interrupt)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    if worker.stdin is not None:
        worker.stdin.close()
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
