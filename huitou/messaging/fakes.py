"""Local stand-ins for the providers, for tests and the benchmark: never the internet.

``FakeTencentSms`` is a tiny HTTP server on 127.0.0.1 (a thread) that speaks
Tencent Cloud's SendSms: it checks the request's TC3-HMAC-SHA256 signature
with the secret it was given, as the real service does (a wrong key answers
``AuthFailure.SignatureFailure``), records each request, and answers from a
script of outcomes: ``ok``, a per-number status code (``"LimitExceeded.PhoneNumberDailyLimit"``),
a whole-request error (``"error:InternalError"``), an HTTP 502 (``"http502"``)
or a dropped connection (``"drop"``). When the script runs out it answers ``ok``.

``FakeSmtp`` is an SMTP server that accepts every message (or refuses the
recipients it is told to), for Django's SMTP backend.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socketserver
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, host: str, content_type: str, payload: bytes, timestamp: int) -> str:
    """Tencent Cloud's documented TC3-HMAC-SHA256 signature of a POST to ``/`` of the SMS service."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class FakeTencentSms:
    secret_id: str = "AKIDfake0000000000000000000000000000"  # noqa: S105 - the fake server's own
    secret_key: str = "fake-secret-key-for-local-tests"  # noqa: S105 - the fake server's own
    app_id: str = "1400000000"
    script: deque[str] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    record: bool = True
    sent: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # answers go out at once (no 40 ms delayed-ACK stalls)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.lock:
                    outcome = fake.script.popleft() if fake.script else "ok"
                if outcome == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if outcome.startswith("http"):
                    self._answer(int(outcome[4:]), b"bad gateway", "text/html")
                    return
                body = json.loads(payload or b"{}")
                if fake.record:
                    with fake.lock:
                        fake.requests.append({"headers": dict(self.headers), "body": body})
                error = fake.check_signature(self.headers, payload)
                if error is None and outcome.startswith("error:"):
                    error = outcome[6:]
                if error is not None:
                    doc: dict[str, Any] = {"Error": {"Code": error, "Message": f"fake {error}"}, "RequestId": "req-err"}
                else:
                    phone = (body.get("PhoneNumberSet") or [""])[0]
                    with fake.lock:
                        fake.sent += 1 if outcome == "ok" else 0
                        serial = f"fake-{fake.sent}-{body.get('SessionContext', '')}"
                    status = {
                        "SerialNo": serial if outcome == "ok" else "",
                        "PhoneNumber": phone,
                        "Fee": 1 if outcome == "ok" else 0,
                        "SessionContext": body.get("SessionContext", ""),
                        "Code": "Ok" if outcome == "ok" else outcome,
                        "Message": "send success" if outcome == "ok" else f"fake {outcome}",
                        "IsoCode": "CN",
                    }
                    doc = {"SendStatusSet": [status], "RequestId": "req-ok"}
                self._answer(200, json.dumps({"Response": doc}).encode(), "application/json")

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def check_signature(self, headers: Any, payload: bytes) -> str | None:
        """None when the request is signed with our key; else the service's error code."""
        auth = headers.get("Authorization", "")
        if f"Credential={self.secret_id}/" not in auth or headers.get("X-TC-Action") != "SendSms":
            return "AuthFailure.SecretIdNotFound"
        expected = tc3_signature(
            secret_key=self.secret_key,
            host=headers.get("Host", ""),
            content_type=headers.get("Content-Type", ""),
            payload=payload,
            timestamp=int(headers.get("X-TC-Timestamp", "0")),
        )
        return None if auth.endswith(f"Signature={expected}") else "AuthFailure.SignatureFailure"

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The environment that points Huitou's SMS at this server."""
        return {
            "HUITOU_SMS_PROVIDER": "tencent",
            "TENCENTCLOUD_SECRET_ID": self.secret_id,
            "TENCENTCLOUD_SECRET_KEY": self.secret_key,
            "HUITOU_SMS_APP_ID": self.app_id,
            "HUITOU_SMS_SIGN": "顺达汽修",
            "HUITOU_SMS_ENDPOINT": self.endpoint,
            "HUITOU_SMS_TIMEOUT": "5",
        }

    def then(self, outcomes: Iterable[str]) -> FakeTencentSms:
        with self.lock:
            self.script.extend(outcomes)
        return self

    def start(self) -> FakeTencentSms:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        fake: FakeSmtp = self.server.fake  # type: ignore[attr-defined]
        self._say("220 fake ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 fake")
            elif verb == "MAIL":
                recipients = []
                self._say("250 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address in fake.refuse:
                    self._say("550 no such user")
                else:
                    recipients.append(address)
                    self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go ahead")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data.append(chunk)
                with fake.lock:
                    fake.messages.append((recipients, b"".join(data)))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


class FakeSmtp:
    def __init__(self, refuse: Iterable[str] = ()) -> None:
        self.refuse = set(refuse)
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> FakeSmtp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
