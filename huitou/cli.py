"""The ``huitou`` command: Django's manage.py plus ``serve`` and ``quickstart``.

huitou serve            web server (waitress) and one background worker
huitou quickstart       migrate, load the demo organization once, print logins, serve
huitou demo ...         build demo data (see ``huitou demo --help``)
huitou token create U   print a new API token for user U
huitou <any manage.py command>

Settings read only the environment, so what they must know about the command
line is passed to them here, before Django starts (see ``command_environment``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

# Set for ``huitou serve``'s worker: stop when serve's end of the stdin pipe
# closes, however serve ended (even killed outright, as Windows services are).
STOP_WITH_PARENT = "HUITOU_STOP_WITH_PARENT"


def command_environment(args: list[str]) -> dict[str, str]:
    """Environment variables a command implies, before the settings are read.

    ``runserver`` is for development: debug pages, unless DEBUG is set.
    ``serve`` and ``quickstart`` answer to the host names of the address they
    bind (``HUITOU_BIND_HOST``, read by settings.ALLOWED_HOSTS).
    """
    command = args[0] if args else ""
    implied: dict[str, str] = {}
    if command == "runserver" and os.environ.get("DEBUG", "") == "":
        implied["DEBUG"] = "1"
    if command in {"serve", "quickstart"}:
        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
        parser.add_argument("--host", default="127.0.0.1")
        known, _ = parser.parse_known_args(args[1:])
        implied["HUITOU_BIND_HOST"] = known.host
    return implied


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "manage":
        args = args[1:]
    os.environ.update(command_environment(args))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huitou.settings")
    if os.environ.pop(STOP_WITH_PARENT, "") == "1":
        _stop_when_stdin_closes()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["huitou", *args])
    return 0


def _stop_when_stdin_closes() -> None:
    def watch() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the parent is gone
        signal.raise_signal(signal.SIGTERM)  # huey's consumer stops on it

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
