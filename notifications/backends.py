"""SMS backends, chosen by settings.SMS_BACKEND (console | file | locmem | twilio).

Like Django's e-mail backends: one small class per transport, all with `send(...)`. A backend
raises PermanentSendError when retrying cannot help (an invalid number) and TransientSendError when
it can (the provider is down, rate limited, a network error); the task decides what happens next.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils.module_loading import import_string

from notifications import conf


class SendError(Exception):
    """The provider did not take the message."""


class PermanentSendError(SendError):
    """Retrying cannot help (invalid or unreachable number, message refused)."""


class TransientSendError(SendError):
    """Retrying later can help (provider error, rate limited, network down)."""


@dataclass(frozen=True)
class SmsPayload:
    """What a backend needs to send one message; `reference` is our message id."""

    to: str
    body: str
    reference: str


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    # The provider's status right after accepting (Twilio: "queued"); "" when it reports none.
    delivery_status: str = ""


@dataclass(frozen=True)
class SentMessage:
    """A message the provider holds, as found by `BaseSmsBackend.find_sent`."""

    provider_message_id: str
    created_at: datetime | None = None
    delivery_status: str = ""


class BaseSmsBackend:
    def send(self, payload: SmsPayload) -> SendResult:
        raise NotImplementedError

    def find_sent(self, payload: SmsPayload) -> list[SentMessage]:
        """Messages the provider already took that could be this one (same number and text, or
        the same reference where the transport keeps it); [] when the transport cannot tell.

        Asked before a retry: the previous attempt may have reached the provider although its
        answer never came back (the worker was killed mid-send, the answer timed out). Raise
        TransientSendError when the provider cannot be asked right now.
        """
        return []


class ConsoleBackend(BaseSmsBackend):
    """Prints each message (the embedded default for developers)."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, payload: SmsPayload) -> SendResult:
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(f"-- SMS {payload.reference} → {payload.to}\n{payload.body}\n--\n")
            stream.flush()
        return SendResult(provider_message_id=f"console-{payload.reference}")


class FileBackend(BaseSmsBackend):
    """Writes one file per message into SMS_FILE_DIR, named after the message id.

    The file appears atomically (written beside it, then renamed), so a reader never sees half a
    message; sending the same message again replaces its file rather than adding a second one.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory or conf.file_dir())

    def send(self, payload: SmsPayload) -> SendResult:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            final = self.directory / f"{payload.reference}.sms"
            content = (
                f"To: {payload.to}\n"
                f"From: {conf.sender()}\n"
                f"Message-ID: {payload.reference}\n"
                f"Date: {datetime.now(UTC).isoformat()}\n"
                f"\n{payload.body}\n"
            )
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".sms")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(content)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A full disk or a permission problem may be fixed by an operator: retry.
            raise TransientSendError(f"写入短信文件失败：{exc}") from exc
        return SendResult(provider_message_id=f"file-{payload.reference}")

    def find_sent(self, payload: SmsPayload) -> list[SentMessage]:
        final = self.directory / f"{payload.reference}.sms"
        if not final.exists():
            return []
        return [SentMessage(provider_message_id=f"file-{payload.reference}", created_at=self._sent_at(final))]

    @staticmethod
    def _sent_at(final: Path) -> datetime:
        # The Date header is the sender's own clock at send time, the same clock the outbox row's
        # created_at came from; the file's mtime is the filesystem's (another host's, on a share).
        try:
            with final.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    if line.startswith("Date: "):
                        return datetime.fromisoformat(line[len("Date: ") :].strip())
        except (OSError, ValueError):
            pass
        return datetime.fromtimestamp(final.stat().st_mtime, UTC)


# The locmem backend's mailbox, like django.core.mail.outbox. Tests read and clear it.
outbox: list[SmsPayload] = []
_outbox_lock = threading.Lock()


class LocmemBackend(BaseSmsBackend):
    """Appends every message to `notifications.backends.outbox` (tests)."""

    def send(self, payload: SmsPayload) -> SendResult:
        with _outbox_lock:
            outbox.append(payload)
        return SendResult(provider_message_id=f"locmem-{payload.reference}")

    def find_sent(self, payload: SmsPayload) -> list[SentMessage]:
        with _outbox_lock:
            taken = any(p.reference == payload.reference for p in outbox)
        return [SentMessage(provider_message_id=f"locmem-{payload.reference}")] if taken else []


class TwilioBackend(BaseSmsBackend):
    """Sends through Twilio's Programmable Messaging with the official client."""

    def __init__(self) -> None:
        self.account_sid: str = settings.TWILIO_ACCOUNT_SID
        self.auth_token: str = settings.TWILIO_AUTH_TOKEN
        self.from_number: str = settings.TWILIO_FROM_NUMBER
        self.messaging_service_sid: str = settings.TWILIO_MESSAGING_SERVICE_SID
        self.status_callback: str = settings.TWILIO_STATUS_CALLBACK_URL
        self.base_url: str = settings.TWILIO_API_BASE_URL

    def send(self, payload: SmsPayload) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if not (self.account_sid and self.auth_token):
            # A configuration problem, not this message's: keep it for when an operator fixes it.
            raise TransientSendError("未配置 TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN")
        if not (self.from_number or self.messaging_service_sid):
            raise TransientSendError("未配置 TWILIO_FROM_NUMBER 或 TWILIO_MESSAGING_SERVICE_SID")
        client = _twilio_client(self.account_sid, self.auth_token, self.base_url, conf.twilio_http_timeout())
        kwargs: dict[str, Any] = {"to": payload.to, "body": payload.body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        if self.from_number:
            kwargs["from_"] = self.from_number
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise _classify_twilio_error(exc) from exc
        except TwilioException as exc:
            raise TransientSendError(f"Twilio 客户端错误：{exc}") from exc
        except OSError as exc:
            # requests' ConnectionError and Timeout are OSErrors: the provider may be back soon.
            raise TransientSendError(f"连接 Twilio 失败：{exc.__class__.__name__}: {exc}") from exc
        return SendResult(provider_message_id=str(message.sid or ""), delivery_status=str(message.status or ""))

    def find_sent(self, payload: SmsPayload) -> list[SentMessage]:
        """The most recent messages Twilio holds for the number, with exactly this text."""
        from twilio.base.exceptions import TwilioException

        if not (self.account_sid and self.auth_token):
            raise TransientSendError("未配置 TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN")
        client = _twilio_client(self.account_sid, self.auth_token, self.base_url, conf.twilio_http_timeout())
        try:
            # Newest first; an in-doubt attempt is recent, so a short page is enough.
            found = client.messages.list(to=payload.to, limit=50)
        except (TwilioException, OSError) as exc:
            raise TransientSendError(f"查询 Twilio 已发短信失败：{exc.__class__.__name__}: {exc}") from exc
        return [
            SentMessage(
                provider_message_id=str(m.sid or ""),
                created_at=m.date_created,
                delivery_status=str(m.status or ""),
            )
            for m in found
            if (m.body or "") == payload.body and m.sid
        ]


# HTTP statuses that say "try again later" although they are 4xx. 401 is our credentials, not the
# message: retrying gives an operator time to fix the configuration before the message is given up.
_RETRYABLE_4XX = {401, 408, 409, 429}


def _classify_twilio_error(exc: Any) -> SendError:
    status = int(getattr(exc, "status", 0) or 0)
    detail = f"Twilio HTTP {status} 错误码 {getattr(exc, 'code', None)}：{getattr(exc, 'msg', '')}"
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return PermanentSendError(detail)
    return TransientSendError(detail)


def _make_http_client(base_url: str, timeout: float) -> Any:
    """The client's HTTP layer; with a base URL, every *.twilio.com request goes there instead.

    Twilio's `edge`/`region` only choose among Twilio's own hosts, so a local stand-in (tests,
    offline demos) needs the host rewritten at the HTTP layer.
    """
    from twilio.http.http_client import TwilioHttpClient

    if not base_url:
        return TwilioHttpClient(timeout=timeout)

    target = urlsplit(base_url.rstrip("/"))

    class RewritingHttpClient(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(url)
            if parts.hostname and parts.hostname.endswith("twilio.com"):
                url = urlunsplit((target.scheme, target.netloc, target.path + parts.path, parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    return RewritingHttpClient(timeout=timeout)


@functools.lru_cache(maxsize=8)
def _twilio_client(account_sid: str, auth_token: str, base_url: str, timeout: float) -> Any:
    # One client (and one pooled HTTP session) per configuration and process.
    from twilio.rest import Client

    return Client(account_sid, auth_token, http_client=_make_http_client(base_url, timeout))


BACKENDS: dict[str, str] = {
    "console": "notifications.backends.ConsoleBackend",
    "file": "notifications.backends.FileBackend",
    "locmem": "notifications.backends.LocmemBackend",
    "twilio": "notifications.backends.TwilioBackend",
}


def get_backend(name: str | None = None) -> BaseSmsBackend:
    """The configured backend: a short name from BACKENDS, or a dotted path to a class."""
    name = name or conf.sms_backend()
    path = BACKENDS.get(name, name)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ValueError(f"未知的短信后端 SMS_BACKEND={name!r}（可选：{', '.join(BACKENDS)}）") from exc
    backend = cls()
    if not isinstance(backend, BaseSmsBackend):
        raise ValueError(f"SMS_BACKEND={name!r} 不是短信后端")
    return backend
