"""What carries a message out: SMS through Tencent Cloud's SDK, email through Django's mail.

Configuration comes from the environment only (no key in the repository):

- ``HUITOU_SMS_PROVIDER=tencent`` turns SMS on; ``TENCENTCLOUD_SECRET_ID`` and
  ``TENCENTCLOUD_SECRET_KEY`` (the SDK's own names) are the API key,
  ``HUITOU_SMS_APP_ID`` the SMS application (SmsSdkAppId), ``HUITOU_SMS_SIGN``
  the default signature (an organization's own, in its message settings,
  comes first), ``HUITOU_SMS_REGION`` (ap-guangzhou) and
  ``HUITOU_SMS_ENDPOINT`` (sms.tencentcloudapi.com; ``http://host:port`` for
  a local fake server in tests and benchmarks).
- Email uses Django's ``EMAIL_*`` settings; it is on when ``EMAIL_HOST`` is
  set in the environment or another backend than SMTP is configured.

A provider answers each message with a ``Result``: sent (with the provider's
reference), or not, and then whether trying again later may help
(``transient``) — network trouble, rate limits and the provider's own errors —
or not (a number the provider refuses, an unapproved template).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection


@dataclass(frozen=True)
class Outgoing:
    id: int
    to: str
    body: str
    subject: str = ""
    sms_template_id: str = ""
    params: Sequence[Sequence[str]] = ()  # [[placeholder, value], ...] in the template's order
    sign: str = ""


@dataclass(frozen=True)
class Result:
    ok: bool
    ref: str = ""
    transient: bool = False
    detail: str = ""


class Provider(Protocol):
    def send(self, message: Outgoing) -> Result: ...

    def close(self) -> None: ...


# --- SMS: Tencent Cloud ------------------------------------------------------------------------

# Per-number answers (SendStatusSet[].Code) worth another try later; other codes fail the message.
TENCENT_TRANSIENT_CODES = frozenset({"InternalError", "RequestLimitExceeded", "LimitExceeded.AppDailyLimit"})
# Whole-request errors (exceptions) that fail the message at once rather than later.
TENCENT_PERMANENT_PREFIXES = ("InvalidParameterValue.", "FailedOperation.", "UnsupportedOperation.")


@dataclass(frozen=True)
class TencentConfig:
    secret_id: str
    secret_key: str
    app_id: str
    sign: str
    region: str
    endpoint: str  # host[:port]
    scheme: str  # https, or http for a local fake server
    timeout: int


def tencent_config() -> TencentConfig | None:
    """The Tencent Cloud SMS configuration from the environment, or None when SMS is off."""
    if os.environ.get("HUITOU_SMS_PROVIDER", "").strip().lower() != "tencent":
        return None
    secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID", "")
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY", "")
    app_id = os.environ.get("HUITOU_SMS_APP_ID", "")
    if not (secret_id and secret_key and app_id):
        return None
    raw = os.environ.get("HUITOU_SMS_ENDPOINT", "") or "sms.tencentcloudapi.com"
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    return TencentConfig(
        secret_id=secret_id,
        secret_key=secret_key,
        app_id=app_id,
        sign=os.environ.get("HUITOU_SMS_SIGN", ""),
        region=os.environ.get("HUITOU_SMS_REGION", "") or "ap-guangzhou",
        endpoint=parts.netloc,
        scheme=parts.scheme or "https",
        timeout=int(os.environ.get("HUITOU_SMS_TIMEOUT", "") or 10),
    )


def sms_configured() -> bool:
    return tencent_config() is not None


class TencentSms:
    """SendSms (API 2021-01-11) through the official SDK, one number per request (each text is personal)."""

    def __init__(self, config: TencentConfig) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        http = HttpProfile(protocol=config.scheme, endpoint=config.endpoint, reqTimeout=config.timeout, keepAlive=True)
        self.config = config
        self.client = sms_client.SmsClient(
            credential.Credential(config.secret_id, config.secret_key), config.region, ClientProfile(httpProfile=http)
        )

    def send(self, message: Outgoing) -> Result:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.to]
        request.SmsSdkAppId = self.config.app_id
        request.SignName = message.sign or self.config.sign
        request.TemplateId = message.sms_template_id
        request.TemplateParamSet = [value for _name, value in message.params]
        request.SessionContext = str(message.id)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            text = f"{code}: {exc.get_message()}"[:300]
            return Result(ok=False, transient=not code.startswith(TENCENT_PERMANENT_PREFIXES), detail=text)
        except Exception as exc:  # noqa: BLE001 - whatever the transport raised: try again later
            return Result(ok=False, transient=True, detail=f"{type(exc).__name__}: {exc}"[:300])
        statuses = list(response.SendStatusSet or [])
        if not statuses:
            return Result(ok=False, transient=True, detail="no SendStatusSet")
        status = statuses[0]
        if status.Code == "Ok":
            return Result(ok=True, ref=str(status.SerialNo or "")[:64])
        code = str(status.Code or "")
        return Result(ok=False, transient=code in TENCENT_TRANSIENT_CODES, detail=f"{code}: {status.Message}"[:300])

    def close(self) -> None:
        return None


def sms_provider() -> Provider | None:
    config = tencent_config()
    return TencentSms(config) if config is not None else None


# --- email: Django's mail --------------------------------------------------------------------


def email_configured() -> bool:
    """Another backend than SMTP, or an SMTP server named (the environment's EMAIL_HOST)."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
        return True
    return bool(os.environ.get("EMAIL_HOST")) or settings.EMAIL_HOST not in ("", "localhost")


class DjangoEmail:
    """Django's configured email backend, one connection for a whole batch."""

    def __init__(self) -> None:
        self.connection: Any = get_connection(fail_silently=False)
        self.opened = False

    def send(self, message: Outgoing) -> Result:
        email = EmailMessage(subject=message.subject, body=message.body, to=[message.to], connection=self.connection)
        try:
            if not self.opened:
                self.connection.open()
                self.opened = True
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            return Result(ok=False, transient=False, detail=f"SMTPRecipientsRefused: {exc}"[:300])
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Result(ok=False, transient=True, detail=f"{type(exc).__name__}: {exc}"[:300])
        return Result(ok=True)

    def close(self) -> None:
        if self.opened:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.close()
            self.opened = False
