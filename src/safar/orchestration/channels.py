"""Outbound channels: email over SMTP, SMS through an HTTP gateway, in-app (pulled over the
API), Telegram's Bot API, signed webhooks (``webhooks`` signs them) and HTTP push gateways.

Every transport is injectable (an SMTP connection factory, an ``httpx.Client``), so tests talk to
a real local SMTP server and a real local HTTP gateway. SMS providers differ only in URL, auth
and field names, so a provider is a small template (``SmsPreset``), not code.

A failure says what the scheduler may do next: ``retryable`` when nothing reached the provider
or it asked to be tried later (refused connection, 5xx, 429 with ``retry_after``); otherwise
final. ``DeliveryUncertain`` (a timeout after the request was written) may have been delivered
and is never resent.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from safar.config import Settings
from safar.errors import SafarError
from safar.orchestration.webhooks import sign


class DeliveryFailed(SafarError):
    status_code = 502

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class DeliveryUncertain(DeliveryFailed):
    """The request went out and no answer came back: it may have been delivered."""


@dataclass(slots=True)
class OutboundMessage:
    channel: str
    to: str
    text: str
    subject: str = ""
    html: str | None = None
    language: str = "fa"
    headers: dict[str, str] = field(default_factory=dict)
    #: The idempotency key (the job's dedupe key); providers that take one get it.
    key: str = ""
    #: Structured content: the webhook's JSON body.
    data: dict[str, Any] = field(default_factory=dict)
    #: The HTTP method of a webhook (POST, PUT or PATCH).
    method: str = "POST"


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        """Deliver the message or raise ``DeliveryFailed``; return what the provider said."""
        ...


class EmailChannel:
    """SMTP: plain text plus HTML alternative, UTF-8 throughout (Persian subjects and bodies)."""

    name = "email"

    def __init__(self, sender: str, connect: Callable[[], smtplib.SMTP]) -> None:
        self.sender = sender
        self.connect = connect

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        def connect() -> smtplib.SMTP:
            host, port, timeout = (
                settings.smtp_host or "",
                settings.smtp_port,
                settings.smtp_timeout,
            )
            smtp: smtplib.SMTP
            if settings.smtp_ssl:
                ctx = ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ctx)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            return smtp

        return cls(settings.smtp_from, connect)

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        mail = EmailMessage()
        mail["From"] = formataddr(("Safar", self.sender)) if "<" not in self.sender else self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="safar.local")
        for k, v in message.headers.items():
            mail[k] = v
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        try:
            smtp = self.connect()
        except (OSError, smtplib.SMTPException) as exc:
            # Nothing was handed over: the server was down or refused us; try again later.
            raise DeliveryFailed(
                f"email: SMTP delivery failed ({type(exc).__name__})", retryable=True
            ) from exc
        try:
            with smtp:
                refused = smtp.send_message(mail)
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            raise DeliveryUncertain(
                f"email: no answer after the message was sent ({type(exc).__name__}); not resent"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # 4xx is the server's "later"; 5xx its "never".
            raise DeliveryFailed(
                f"email: SMTP delivery failed ({exc.smtp_code})",
                retryable=400 <= exc.smtp_code < 500,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"email: SMTP delivery failed ({type(exc).__name__})") from exc
        if refused:
            raise DeliveryFailed(f"email: recipient refused {sorted(refused)}")
        return {"message_id": mail["Message-ID"]}


@dataclass(frozen=True, slots=True)
class SmsPreset:
    """How one provider wants an SMS: URL template, body encoding, field names, auth."""

    url: str
    body: dict[str, str]
    encoding: str = "form"  # form | json
    auth: str = "none"  # none | basic | bearer


#: ``{api_key}``, ``{account}``, ``{sender}``, ``{to}`` and ``{text}`` are filled in.
SMS_PRESETS: dict[str, SmsPreset] = {
    "kavenegar": SmsPreset(
        url="https://api.kavenegar.com/v1/{api_key}/sms/send.json",
        body={"receptor": "{to}", "message": "{text}", "sender": "{sender}"},
    ),
    "twilio": SmsPreset(
        url="https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json",
        body={"To": "{to}", "From": "{sender}", "Body": "{text}"},
        auth="basic",
    ),
    "generic": SmsPreset(
        url="{base_url}",
        body={"to": "{to}", "text": "{text}", "sender": "{sender}"},
        encoding="json",
        auth="bearer",
    ),
}


class SmsChannel:
    """An SMS gateway reached over HTTP; any 2xx answer counts as accepted."""

    name = "sms"

    def __init__(
        self,
        preset: SmsPreset,
        *,
        client: httpx.Client,
        api_key: str = "",
        account: str = "",
        sender: str = "",
        base_url: str = "",
    ) -> None:
        self.preset = preset
        self.client = client
        self.api_key = api_key
        self.account = account
        self.sender = sender
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings, client: httpx.Client | None = None) -> SmsChannel:
        preset = SMS_PRESETS[settings.sms_provider or "generic"]
        if settings.sms_url and settings.sms_provider != "generic":
            preset = SmsPreset(settings.sms_url, preset.body, preset.encoding, preset.auth)
        return cls(
            preset,
            client=client or httpx.Client(timeout=10.0),
            api_key=settings.sms_api_key or "",
            account=settings.sms_account or "",
            sender=settings.sms_sender or "",
            base_url=settings.sms_url or "",
        )

    def _fill(self, template: str, message: OutboundMessage) -> str:
        return template.format(
            api_key=self.api_key,
            account=self.account,
            sender=self.sender,
            base_url=self.base_url,
            to=message.to,
            text=message.text,
        )

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        url = self._fill(self.preset.url, message)
        if not url.startswith(("http://", "https://")):
            raise DeliveryFailed("sms: no gateway URL configured (SAFAR_SMS_URL)")
        body = {k: self._fill(v, message) for k, v in self.preset.body.items()}
        kwargs: dict[str, Any] = (
            {"json": body} if self.preset.encoding == "json" else {"data": body}
        )
        if self.preset.auth == "basic":
            kwargs["auth"] = (self.account, self.api_key)
        elif self.preset.auth == "bearer" and self.api_key:
            kwargs["headers"] = {"Authorization": f"Bearer {self.api_key}"}
        resp = post(self.client, "sms", url, **kwargs)
        check_status("sms", resp)
        return {"status_code": resp.status_code}


class InAppChannel:
    """Nothing is pushed: the app asks ``GET /api/surveys/pending`` and shows the widget."""

    name = "app"

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        return {"delivery": "pull"}


class TelegramChannel:
    """Telegram's Bot API ``sendMessage``; the address is a chat id (or a public @channel)."""

    name = "telegram"

    def __init__(self, token: str, *, client: httpx.Client, api_url: str) -> None:
        self.token, self.client, self.api_url = token, client, api_url.rstrip("/")

    @classmethod
    def from_settings(
        cls, settings: Settings, client: httpx.Client | None = None
    ) -> TelegramChannel:
        return cls(
            settings.telegram_bot_token or "",
            client=client or httpx.Client(timeout=10.0),
            api_url=settings.telegram_api_url,
        )

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        url = f"{self.api_url}/bot{self.token}/sendMessage"
        resp = post(
            self.client, "telegram", url, json={"chat_id": message.to, "text": message.text}
        )
        try:
            body = resp.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        params = body.get("parameters") or {}
        if resp.status_code == 429 or isinstance(params.get("retry_after"), int | float):
            wait = params.get("retry_after")
            raise DeliveryFailed(
                f"telegram: {body.get('description') or 'too many requests'}",
                retryable=True,
                retry_after=float(wait) if isinstance(wait, int | float) else retry_after(resp),
            )
        if resp.status_code < 500 and (resp.status_code >= 300 or body.get("ok") is not True):
            raise DeliveryFailed(f"telegram: {body.get('description') or resp.status_code!s}")
        check_status("telegram", resp)
        result = body.get("result") or {}
        return {"message_id": result.get("message_id") if isinstance(result, dict) else None}


class WebhookChannel:
    """Send the message's ``data`` as JSON to its URL (POST unless its ``method`` says),
    signed (``webhooks.verify_signature``).

    ``Safar-Idempotency-Key`` carries the job's key, so a receiver can drop a repeat;
    ``Safar-Event`` names what happened (the message's subject, else ``message``).
    """

    name = "webhook"

    def __init__(
        self, secret: str, *, client: httpx.Client, clock: Callable[[], float] = time.time
    ) -> None:
        self.secret, self.client, self.clock = secret, client, clock

    @classmethod
    def from_settings(
        cls, settings: Settings, client: httpx.Client | None = None
    ) -> WebhookChannel:
        return cls(settings.webhook_secret or "", client=client or httpx.Client(timeout=10.0))

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        if not message.to.startswith(("http://", "https://")):
            raise DeliveryFailed("webhook: the URL must start with http:// or https://")
        body = json_bytes(message.data)
        headers = {
            **message.headers,
            "Content-Type": "application/json",
            "Safar-Signature": sign(self.secret, body, int(self.clock())),
            "Safar-Idempotency-Key": message.key,
            "Safar-Event": message.subject or "message",
        }
        resp = post(
            self.client, "webhook", message.to, content=body, headers=headers, method=message.method
        )
        check_status("webhook", resp)
        return {"status_code": resp.status_code}


@dataclass(frozen=True, slots=True)
class PushPreset:
    """How one push gateway wants a notification; ``{to}`` is the customer's push token."""

    url: str
    body: dict[str, str] | None = None  # JSON fields; None sends the text as the body
    title_header: str | None = None
    auth: str = "bearer"  # none | bearer


PUSH_PRESETS: dict[str, PushPreset] = {
    "ntfy": PushPreset(url="{base}/{to}", title_header="Title"),
    "gotify": PushPreset(
        url="{base}/message?token={to}",
        body={"title": "{subject}", "message": "{text}"},
        auth="none",
    ),
    "generic": PushPreset(
        url="{base}", body={"to": "{to}", "title": "{subject}", "text": "{text}"}
    ),
}


class PushChannel:
    """An HTTP push gateway (ntfy topic, gotify app token, or a generic JSON endpoint)."""

    name = "push"

    def __init__(
        self, preset: PushPreset, *, client: httpx.Client, base_url: str, api_key: str = ""
    ) -> None:
        self.preset, self.client = preset, client
        self.base_url, self.api_key = base_url.rstrip("/"), api_key

    @classmethod
    def from_settings(cls, settings: Settings, client: httpx.Client | None = None) -> PushChannel:
        return cls(
            PUSH_PRESETS[settings.push_provider or "generic"],
            client=client or httpx.Client(timeout=10.0),
            base_url=settings.push_url or "",
            api_key=settings.push_api_key or "",
        )

    def send(self, message: OutboundMessage) -> dict[str, Any]:
        preset = self.preset
        url = preset.url.format(base=self.base_url, to=quote(message.to, safe=""))
        if not url.startswith(("http://", "https://")):
            raise DeliveryFailed("push: no gateway URL configured (SAFAR_PUSH_URL)")
        headers: dict[str, str] = {}
        if preset.auth == "bearer" and self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        kwargs: dict[str, Any] = {"headers": headers}
        if preset.body is None:
            kwargs["content"] = message.text.encode()
            if preset.title_header and message.subject:
                # Header values are Latin-1 on the wire: Persian titles go RFC 2047-encoded,
                # as encoded words on one line (folding would put a newline in the header).
                title = message.subject
                headers[preset.title_header] = (
                    title if title.isascii() else Header(title, "utf-8").encode(linesep=" ")
                )
        else:
            fill = {"to": message.to, "subject": message.subject, "text": message.text}
            kwargs["json"] = {k: v.format(**fill) for k, v in preset.body.items()}
            if message.data:
                kwargs["json"]["data"] = message.data
        resp = post(self.client, "push", url, **kwargs)
        check_status("push", resp)
        return {"status_code": resp.status_code}


def json_bytes(data: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (compact, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()


#: Gateway URLs parsed once: httpx parses a text URL again on every request (a few percent
#: of a send's CPU). Bounded, as webhook URLs come from the journeys.
_URLS: dict[str, httpx.URL] = {}


def post(
    client: httpx.Client, name: str, url: str, *, method: str = "POST", **kwargs: Any
) -> httpx.Response:
    """POST (or ``method``), telling a request that never left (retryable) from one that went
    unanswered."""
    try:
        parsed = _URLS.get(url)
        if parsed is None:
            if len(_URLS) >= 256:
                _URLS.clear()
            parsed = _URLS[url] = httpx.URL(url)
        return client.request(method, parsed, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
        raise DeliveryFailed(
            f"{name}: gateway unreachable ({type(exc).__name__})", retryable=True
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        raise DeliveryFailed(f"{name}: cannot send ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        # Read/write timeouts, a dropped connection: the request may have been processed.
        raise DeliveryUncertain(
            f"{name}: no answer after the request was sent ({type(exc).__name__}); not resent"
        ) from exc
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{name}: cannot send ({type(exc).__name__})") from exc


def retry_after(resp: httpx.Response, now: float | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (a number or an HTTP date), if any."""
    value = resp.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check_status(name: str, resp: httpx.Response, detail: str = "") -> None:
    """Raise for a non-2xx answer: 408, 429 and 5xx may be retried, other codes are final."""
    code = resp.status_code
    if code < 300:
        return
    text = f"{name}: gateway answered HTTP {code}" + (f" ({detail})" if detail else "")
    if code in (408, 429) or code >= 500:
        raise DeliveryFailed(text, retryable=True, retry_after=retry_after(resp))
    raise DeliveryFailed(text)


def default_channels(settings: Settings) -> dict[str, Channel]:
    """Each channel whose settings are there (in-app always)."""
    channels: dict[str, Channel] = {"app": InAppChannel()}
    if settings.smtp_host:
        channels["email"] = EmailChannel.from_settings(settings)
    if settings.sms_provider and (settings.sms_url or settings.sms_provider != "generic"):
        channels["sms"] = SmsChannel.from_settings(settings)
    if settings.telegram_bot_token:
        channels["telegram"] = TelegramChannel.from_settings(settings)
    if settings.webhook_secret:
        channels["webhook"] = WebhookChannel.from_settings(settings)
    if settings.push_provider and settings.push_url:
        channels["push"] = PushChannel.from_settings(settings)
    return channels
