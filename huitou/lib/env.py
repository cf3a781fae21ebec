"""Typed readers for configuration from environment variables.

Settings come only from the environment; each reader fails loudly on a value
it cannot understand rather than guessing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def persistent_secret(path: Path, *, nbytes: int = 50) -> str:
    """The secret kept in ``path``, created with a new random value on first use.

    The file is readable by its owner only (mode 0600; Windows ignores the
    mode and keeps the folder's permissions). Two processes starting at once
    agree on one value: each writes a private file and links it into place,
    and the link fails for all but the first.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(nbytes) + "\n")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process created it first: use theirs
            except OSError:
                if not path.exists():  # a file system without hard links
                    os.replace(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise ConfigError(f"{path} is empty; delete it to generate a new secret key")
    return value


LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


def hosts_for_address(address: str) -> list[str]:
    """The host names a server bound to ``address`` answers to (ALLOWED_HOSTS).

    A loopback address gives the loopback names. A wildcard (``0.0.0.0``,
    ``::`` or empty) gives this machine's host name and the addresses found
    without a network round trip: the one the default route leaves from and
    those the host name resolves to. Any other address or name is itself.
    """
    address = address.strip().strip("[]")
    hosts = list(LOOPBACK_HOSTS)
    if address in {"127.0.0.1", "localhost", "::1"}:
        return hosts
    if address not in {"", "0.0.0.0", "::"}:  # noqa: S104
        return _unique([*hosts, _host_header_form(address)])
    name = socket.gethostname()
    found = [name, f"{name}.local"]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        found += [str(info[4][0]) for info in socket.getaddrinfo(name, None)]
    return _unique([*hosts, *(_host_header_form(h) for h in found if h and h != "0.0.0.0")])  # noqa: S104


def _host_header_form(host: str) -> str:
    """IPv6 addresses appear in the Host header in brackets."""
    host = host.split("%", 1)[0]  # drop an IPv6 zone index
    return f"[{host}]" if ":" in host else host.lower()


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
