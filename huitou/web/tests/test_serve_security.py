"""``huitou serve`` is safe by default, and stops its worker when told to stop.

The served tests run the real command in child processes, on a temporary
data directory of their own with SQLite, with no DATABASE_URL, DEBUG,
SECRET_KEY or ALLOWED_HOSTS in their environment: what a shop's front-desk
PC runs after installing. They do the same on SQLite and PostgreSQL runs of
the suite. The directory is migrated and given a small demo organization
once for the module (about 30 s on a busy 2-core machine).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from huitou.cli import command_environment
from huitou.settings import DEV_SECRET_KEY

REPO = Path(__file__).resolve().parents[3]
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and sends POSIX signals")
# Settings a shop does not set; the test run's own values must not leak into the served processes.
SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "HUITOU_BIND_HOST",
    "HUITOU_HTTPS",
    "BEHIND_HTTPS_PROXY",
    "SESSION_COOKIE_SECURE",
    # Set in this process by the browser tests (Playwright's sync API runs
    # an event loop); a shop's server never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def shop_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(HUITOU_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", **extra)
    return env


def huitou(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "huitou.cli", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Shop:
    data_dir: Path
    logins: dict[str, str]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    data_dir = tmp_path_factory.mktemp("shop") / "data"
    env = shop_environment(data_dir)
    assert not (data_dir / "secret_key").exists()
    migrated = huitou("migrate", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    demo = huitou("demo", "--customers", "3", "--seed", "1", env=env)
    assert demo.returncode == 0, demo.stderr
    # "  owner    huitou-demo-2026  店长": the logins as the demo prints them
    logins = dict(re.findall(r"^  (\w+) +(\S+) +\S+$", demo.stdout.split("Log in at", 1)[1], re.MULTILINE))
    assert "owner" in logins, demo.stdout
    return Shop(data_dir=data_dir, logins=logins)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``huitou`` server process; its output goes to a file read while it runs.

    ``background``: started as a shell without job control starts a background job (a service
    script, ``nohup ... &``), with SIGINT ignored.
    """

    def __init__(self, data_dir: Path, *command: str, background: bool = False, **env: str) -> None:
        self.port = free_port()
        self.log = data_dir.parent / f"server-{self.port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "huitou.cli", *command, f"--port={self.port}"]
                if command[0] == "serve"
                else [sys.executable, "-m", "huitou.cli", *command, f"127.0.0.1:{self.port}"],
                env=shop_environment(data_dir, **env),
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if background else None,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"no answer on /healthz within 90 s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()

    def worker_pid(self) -> int:
        found = re.search(r"Background worker started \(pid (\d+)\)", self.output())
        assert found, self.output()
        return int(found.group(1))

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def served(shop: Shop) -> Iterator[Server]:
    server = Server(shop.data_dir, "serve")
    yield server
    server.stop()


def get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str, str]:
    """Status, body and final address of a GET, errors included."""
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
            return response.status, response.read().decode(), response.url
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), url


def signed_in(server: Server, username: str, password: str) -> urllib.request.OpenerDirector:
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    _, page, _ = get(f"{server.url}/login/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page
    form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/"}
    with opener.open(f"{server.url}/login/", urllib.parse.urlencode(form).encode(), timeout=10) as response:
        assert urllib.parse.urlsplit(response.url).path == "/", response.read().decode()
    return opener


def is_gone(pid: int) -> bool:
    """No such process, or one that has exited and waits to be reaped."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat_line.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def wait_until_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        time.sleep(0.1)
    return False


# -- serving with safe defaults ---------------------------------------------


@LINUX
def test_a_fresh_data_directory_gets_its_own_secret_key_readable_by_its_owner_only(shop: Shop, served: Server) -> None:
    key_file = shop.data_dir / "secret_key"
    key = key_file.read_text().strip()

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) >= 50
    assert key != DEV_SECRET_KEY


@LINUX
def test_an_unknown_page_shows_the_plain_not_found_page_not_the_debug_page(served: Server) -> None:
    status, body, _ = get(f"{served.url}/nope")

    assert status == 404
    assert "页面不存在" in body  # the product's own 404.html
    assert "URLconf" not in body and "DEBUG = True" not in body and "urlpatterns" not in body


@LINUX
def test_the_demo_logins_work_on_the_served_production_server(shop: Shop, served: Server) -> None:
    for username, password in shop.logins.items():
        opener = signed_in(served, username, password)
        status, _, url = get(f"{served.url}/", opener)
        assert (status, urllib.parse.urlsplit(url).path) == (200, "/"), username


@LINUX
def test_the_key_survives_a_restart_so_people_stay_signed_in(shop: Shop) -> None:
    first = Server(shop.data_dir, "serve")
    try:
        key_before = (shop.data_dir / "secret_key").read_text()
        opener = signed_in(first, "owner", shop.logins["owner"])
    finally:
        first.stop()
    second = Server(shop.data_dir, "serve")
    try:
        # The session carries a hash signed with the key: a new key would sign everyone out.
        # (Cookies are per host, not per port: the second server gets them too.)
        status, _, url = get(f"{second.url}/", opener)
    finally:
        second.stop()

    assert (shop.data_dir / "secret_key").read_text() == key_before
    assert (status, urllib.parse.urlsplit(url).path) == (200, "/")


@LINUX
def test_runserver_is_the_development_server_with_debug_pages(shop: Shop) -> None:
    server = Server(shop.data_dir, "runserver", "--noreload")
    try:
        status, body, _ = get(f"{server.url}/nope")
    finally:
        server.stop()

    assert status == 404
    assert "URLconf" in body


def test_the_command_line_tells_the_settings_the_bound_address_and_runserver_s_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEBUG", raising=False)

    assert command_environment(["serve"]) == {"HUITOU_BIND_HOST": "127.0.0.1"}
    assert command_environment(["serve", "--host", "0.0.0.0", "--port", "80"]) == {"HUITOU_BIND_HOST": "0.0.0.0"}  # noqa: S104
    assert command_environment(["quickstart", "--host=192.168.1.20"]) == {"HUITOU_BIND_HOST": "192.168.1.20"}
    assert command_environment(["runserver"]) == {"DEBUG": "1"}
    assert command_environment(["migrate"]) == {}
    monkeypatch.setenv("DEBUG", "0")
    assert command_environment(["runserver"]) == {}


# -- stopping ---------------------------------------------------------------


@LINUX
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_to_serve_stops_its_worker_too(shop: Shop, signum: int) -> None:
    server = Server(shop.data_dir, "serve", background=True)
    worker = server.worker_pid()
    assert not is_gone(worker)

    os.kill(server.process.pid, signum)  # the server alone, as systemd's KillMode=mixed and Docker do

    # serve gives the worker up to 10 s to finish its task, then kills it; the rest is margin for a busy machine.
    assert server.process.wait(timeout=60) == 0, server.output()
    assert wait_until_gone(worker), f"worker {worker} still running"
    assert "Huitou has stopped." in server.output()


@LINUX
def test_the_worker_stops_even_when_serve_is_killed_outright(shop: Shop) -> None:
    server = Server(shop.data_dir, "serve")
    worker = server.worker_pid()

    server.process.kill()
    server.process.wait(timeout=15)

    assert wait_until_gone(worker), f"worker {worker} still running"


# -- error pages and deployment checks --------------------------------------


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret detail of a failure")


urlpatterns = [path("boom", boom)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_shows_the_plain_error_page_without_a_traceback() -> None:
    response = Client(raise_request_exception=False).get("/boom")
    body = response.content.decode()

    assert response.status_code == 500
    assert "服务器出错" in body
    assert "Traceback" not in body and "secret detail" not in body and "RuntimeError" not in body


def readme_deploy_warnings() -> dict[str, set[str]]:
    """The ``check --deploy`` warnings README's Security section explains, by mode."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    explained: dict[str, set[str]] = {"plain HTTP": set(), "HTTPS": set()}
    for warning, mode in re.findall(r"^\| `(security\.W\d+)` \| (plain HTTP|HTTPS) \|", section, re.MULTILINE):
        explained[mode].add(warning)
    return explained


def deploy_warnings(tmp_path: Path, **env: str) -> set[str]:
    done = huitou("check", "--deploy", env=shop_environment(tmp_path / "data", **env), timeout=120)
    assert "ERRORS" not in done.stderr + done.stdout, done.stderr
    return set(re.findall(r"\((\w+\.[WE]\d+)\)", done.stderr + done.stdout))


def test_check_deploy_leaves_only_the_warnings_the_readme_explains(tmp_path: Path) -> None:
    explained = readme_deploy_warnings()

    assert deploy_warnings(tmp_path) == explained["plain HTTP"]
    assert deploy_warnings(tmp_path, HUITOU_HTTPS="1", BEHIND_HTTPS_PROXY="1") == explained["HTTPS"]


@LINUX
def test_more_kept_connections_than_waitress_s_default_limit_are_all_answered(served: Server) -> None:
    # 32 counters whose browsers keep four connections each: 128 open at once, past waitress's own 100.
    connections = [http.client.HTTPConnection("127.0.0.1", served.port, timeout=5) for _ in range(128)]
    try:
        for conn in connections:  # each opened and kept alive, as a browser keeps its connections
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
        started = time.monotonic()
        last = connections[-1]
        last.request("GET", "/healthz")
        assert last.getresponse().status == 200
        assert time.monotonic() - started < 2
    finally:
        for conn in connections:
            conn.close()


@pytest.mark.parametrize(("files", "limit"), [(1024, 400), (256, 128), (65536, 400)])
def test_the_connection_limit_leaves_room_for_the_servers_own_files(
    monkeypatch: pytest.MonkeyPatch, files: int, limit: int
) -> None:
    resource = pytest.importorskip("resource")
    from huitou.web.management.commands import serve

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (files, files))
    assert serve.connection_limit_default() == limit
