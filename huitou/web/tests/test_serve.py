"""``huitou serve`` really serves: a production-grade server in a child process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["HUITOU_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "huitou.cli", "migrate", "-v0"], env=env, check=True, timeout=120)
    return env


def test_serve_answers_health_checks_with_its_worker_running(data_env: dict[str, str]) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "huitou.cli", "serve", "--port", str(port)],
        env=data_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert body == '{"status": "ok", "database": "ok"}'
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:  # noqa: S310
            assert response.headers["Server"] == "huitou"
            assert "csrfmiddlewaretoken" in response.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert "Background worker started" in output
