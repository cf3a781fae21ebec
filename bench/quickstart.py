"""Time ``huitou quickstart`` on an empty data directory until the first page answers.

    .venv/bin/python bench/quickstart.py [--port N] [--keep] [-- quickstart options]

Starts ``huitou quickstart`` (SQLite, a fresh temporary ``HUITOU_DATA_DIR``,
``DATABASE_URL`` and ``REDIS_URL`` removed from its environment), polls
``/healthz`` and then ``/login/`` until both answer 200, prints the seconds
from the start of the command to the first page and the lines the command
printed, then stops it (SIGINT, as Ctrl+C would). It also prints the CPU
time of the command and its children (the figure that does not depend on
what else the machine is doing) and the load average when it started.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (a local http URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    parser.add_argument("extra", nargs="*", help="further options of huitou quickstart")
    args = parser.parse_args()

    port = args.port or free_port()
    if answers(f"http://127.0.0.1:{port}/healthz"):
        sys.exit(f"something already answers on port {port}")
    data_dir = Path(tempfile.mkdtemp(prefix="huitou-quickstart-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUITOU_STATIC_ROOT")}
    env["HUITOU_DATA_DIR"] = str(data_dir)
    huitou = Path(sys.executable).with_name("huitou")
    command = [str(huitou), "quickstart", "--port", str(port), *args.extra]
    base = f"http://127.0.0.1:{port}"
    log = data_dir / "quickstart.log"
    load = os.getloadavg()[0]
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=data_dir)  # noqa: S603
        try:
            first_page = None
            while time.monotonic() - started < args.timeout and process.poll() is None:
                if answers(f"{base}/healthz") and answers(f"{base}/login/"):
                    first_page = time.monotonic() - started
                    break
                time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    print(log.read_text().rstrip())
    print()
    if first_page is None:
        print(f"no answer from {base} within {args.timeout:.0f} s (exit code {process.returncode})")
    else:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"huitou quickstart on an empty data directory: first page after {first_page:.1f} s "
            f"(CPU {usage.ru_utime + usage.ru_stime:.1f} s in all its processes, up to the stop; "
            f"load average {load:.1f} at the start, {os.cpu_count()} cores)"
        )
    if args.keep:
        print(f"data directory kept: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    if first_page is None:
        sys.exit(1)


if __name__ == "__main__":
    main()
